//! Sign-in throttling per account: see "Sign-in throttling and known devices" in the crate
//! documentation for the design.

/// The limits of sign-in throttling.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThrottlePolicy {
    /// Failures within one window that lock the account for that kind of device.
    pub failures_max: u32,
    /// The window in which failures are counted, from the first failure in it. A person who
    /// mistypes a few times a day never comes near the limit; a script is stopped after ten.
    pub window_s: u64,
    /// How long the lock lasts.
    pub lockout_s: u64,
}

impl Default for ThrottlePolicy {
    fn default() -> Self {
        ThrottlePolicy {
            failures_max: 10,
            window_s: 60 * 60,
            lockout_s: 30 * 60,
        }
    }
}

/// Where a sign-in attempt comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DeviceTrust {
    /// The attempt carried a device token whose hash is stored with this account: a device the
    /// person signed in from before.
    Known,
    /// Anything else: no device token, or one that belongs to no device of this account.
    Unknown,
}

/// Failures from one kind of device. The fields are public for storage to persist and restore
/// them as they are; only [`ThrottleState`]'s methods should change them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FailureCounter {
    /// Failures in the current window.
    pub failures: u32,
    /// When the current window began (Unix seconds); meaningless while `failures` is 0.
    pub window_started_at_s: u64,
    /// Until when this kind of device is locked out (Unix seconds), if it is.
    pub locked_until_s: Option<u64>,
}

/// The throttling state of one account, as storage persists it. Start from `Default`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ThrottleState {
    pub unknown_devices: FailureCounter,
    pub known_devices: FailureCounter,
}

/// Whether a sign-in attempt may go on to check the credentials.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[must_use]
pub enum ThrottleDecision {
    Allowed,
    /// Refused without checking anything; tell the person when to try again.
    Locked {
        retry_after_s: u64,
    },
}

impl ThrottleState {
    /// Whether an attempt from `device` at `now_s` may check credentials. Call it before
    /// verifying anything, and do not verify when it answers `Locked`.
    pub fn check(&self, device: DeviceTrust, now_s: u64) -> ThrottleDecision {
        match self.counter(device).locked_until_s {
            Some(until_s) if now_s < until_s => ThrottleDecision::Locked {
                retry_after_s: until_s - now_s,
            },
            _ => ThrottleDecision::Allowed,
        }
    }

    /// The state after a failed attempt from `device` at `now_s`. The failure that reaches
    /// [`ThrottlePolicy::failures_max`] within the window starts the lock; a failure recorded
    /// while locked (which `check` should have prevented) changes nothing, so that the lock
    /// cannot be extended by hammering.
    #[must_use]
    pub fn record_failure(self, policy: &ThrottlePolicy, device: DeviceTrust, now_s: u64) -> Self {
        self.with_counter(device, |counter| {
            if let Some(until_s) = counter.locked_until_s
                && now_s < until_s
            {
                return counter;
            }
            let window_over = now_s.saturating_sub(counter.window_started_at_s) >= policy.window_s;
            let counter =
                if counter.failures == 0 || counter.locked_until_s.is_some() || window_over {
                    FailureCounter {
                        failures: 1,
                        window_started_at_s: now_s,
                        locked_until_s: None,
                    }
                } else {
                    FailureCounter {
                        failures: counter.failures.saturating_add(1),
                        ..counter
                    }
                };
            if counter.failures >= policy.failures_max {
                FailureCounter {
                    failures: 0,
                    window_started_at_s: now_s,
                    locked_until_s: Some(now_s.saturating_add(policy.lockout_s)),
                }
            } else {
                counter
            }
        })
    }

    /// The state after a successful sign-in from `device`: that kind's failures are forgotten.
    /// The other kind's are not: a person signing in on their own phone does not lift a lock
    /// that an attacker on unknown devices earned.
    #[must_use]
    pub fn record_success(self, device: DeviceTrust) -> Self {
        self.with_counter(device, |_| FailureCounter::default())
    }

    fn counter(&self, device: DeviceTrust) -> &FailureCounter {
        match device {
            DeviceTrust::Known => &self.known_devices,
            DeviceTrust::Unknown => &self.unknown_devices,
        }
    }

    fn with_counter(
        mut self,
        device: DeviceTrust,
        change: impl FnOnce(FailureCounter) -> FailureCounter,
    ) -> Self {
        let counter = match device {
            DeviceTrust::Known => &mut self.known_devices,
            DeviceTrust::Unknown => &mut self.unknown_devices,
        };
        *counter = change(*counter);
        self
    }
}
