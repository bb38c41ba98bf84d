use ceiba_identity::{DeviceTrust, ThrottleDecision, ThrottlePolicy, ThrottleState};

const T0: u64 = 1_750_000_000;

fn fail_times(
    mut state: ThrottleState,
    device: DeviceTrust,
    times: u32,
    start_s: u64,
) -> ThrottleState {
    let policy = ThrottlePolicy::default();
    for i in 0..times {
        state = state.record_failure(&policy, device, start_s + u64::from(i));
    }
    state
}

#[test]
fn the_defaults() {
    let policy = ThrottlePolicy::default();
    assert_eq!(policy.failures_max, 10);
    assert_eq!(policy.lockout_s, 30 * 60);
    assert_eq!(policy.window_s, 60 * 60);
}

#[test]
fn ten_failures_from_unknown_devices_lock_them_out_for_30_minutes() {
    let state = fail_times(ThrottleState::default(), DeviceTrust::Unknown, 9, T0);
    assert_eq!(
        state.check(DeviceTrust::Unknown, T0 + 9),
        ThrottleDecision::Allowed
    );
    let state = fail_times(state, DeviceTrust::Unknown, 1, T0 + 9);
    assert_eq!(
        state.check(DeviceTrust::Unknown, T0 + 9),
        ThrottleDecision::Locked {
            retry_after_s: 1_800
        }
    );
    assert_eq!(
        state.check(DeviceTrust::Unknown, T0 + 9 + 1_000),
        ThrottleDecision::Locked { retry_after_s: 800 }
    );
    assert_eq!(
        state.check(DeviceTrust::Unknown, T0 + 9 + 1_799),
        ThrottleDecision::Locked { retry_after_s: 1 }
    );
    // The lock expires.
    assert_eq!(
        state.check(DeviceTrust::Unknown, T0 + 9 + 1_800),
        ThrottleDecision::Allowed
    );
}

#[test]
fn a_known_device_still_signs_in_during_the_lock() {
    let state = fail_times(ThrottleState::default(), DeviceTrust::Unknown, 10, T0);
    assert!(matches!(
        state.check(DeviceTrust::Unknown, T0 + 60),
        ThrottleDecision::Locked { .. }
    ));
    assert_eq!(
        state.check(DeviceTrust::Known, T0 + 60),
        ThrottleDecision::Allowed
    );
    // Signing in there does not lift the lock on unknown devices.
    let state = state.record_success(DeviceTrust::Known);
    assert!(matches!(
        state.check(DeviceTrust::Unknown, T0 + 61),
        ThrottleDecision::Locked { .. }
    ));
}

#[test]
fn known_devices_have_a_limit_of_their_own() {
    let state = fail_times(ThrottleState::default(), DeviceTrust::Known, 10, T0);
    assert!(matches!(
        state.check(DeviceTrust::Known, T0 + 10),
        ThrottleDecision::Locked { .. }
    ));
    assert_eq!(
        state.check(DeviceTrust::Unknown, T0 + 10),
        ThrottleDecision::Allowed
    );
}

#[test]
fn failures_while_locked_do_not_extend_the_lock() {
    let policy = ThrottlePolicy::default();
    let locked = fail_times(ThrottleState::default(), DeviceTrust::Unknown, 10, T0);
    let mut state = locked;
    for i in 0..100 {
        state = state.record_failure(&policy, DeviceTrust::Unknown, T0 + 100 + i);
    }
    assert_eq!(state, locked);
    assert_eq!(
        state.check(DeviceTrust::Unknown, T0 + 9 + 1_800),
        ThrottleDecision::Allowed
    );
}

#[test]
fn after_the_lock_counting_starts_again() {
    let state = fail_times(ThrottleState::default(), DeviceTrust::Unknown, 10, T0);
    let after = T0 + 9 + 1_800;
    let state = fail_times(state, DeviceTrust::Unknown, 9, after);
    assert_eq!(
        state.check(DeviceTrust::Unknown, after + 9),
        ThrottleDecision::Allowed
    );
    let state = fail_times(state, DeviceTrust::Unknown, 1, after + 9);
    assert!(matches!(
        state.check(DeviceTrust::Unknown, after + 9),
        ThrottleDecision::Locked { .. }
    ));
}

#[test]
fn failures_spread_beyond_the_window_do_not_lock() {
    let policy = ThrottlePolicy::default();
    let mut state = ThrottleState::default();
    // Nine failures, then a pause longer than the window, then nine more: never ten in one.
    for i in 0..9 {
        state = state.record_failure(&policy, DeviceTrust::Unknown, T0 + i);
    }
    for i in 0..9 {
        state = state.record_failure(&policy, DeviceTrust::Unknown, T0 + 3_600 + i);
    }
    assert_eq!(
        state.check(DeviceTrust::Unknown, T0 + 3_610),
        ThrottleDecision::Allowed
    );
    assert_eq!(state.unknown_devices.failures, 9);
}

#[test]
fn a_success_forgets_the_failures_of_its_kind() {
    let state = fail_times(ThrottleState::default(), DeviceTrust::Unknown, 9, T0);
    let state = fail_times(state, DeviceTrust::Known, 9, T0);
    let state = state.record_success(DeviceTrust::Unknown);
    assert_eq!(state.unknown_devices.failures, 0);
    assert_eq!(state.known_devices.failures, 9);
    // Nine more from unknown devices do not lock: the count started again.
    let state = fail_times(state, DeviceTrust::Unknown, 9, T0 + 20);
    assert_eq!(
        state.check(DeviceTrust::Unknown, T0 + 30),
        ThrottleDecision::Allowed
    );
}

#[test]
fn a_clock_that_steps_back_does_not_break_counting() {
    let policy = ThrottlePolicy::default();
    let mut state = ThrottleState::default();
    for i in 0..10 {
        // Two processes whose clocks disagree by a few seconds.
        let now_s = if i % 2 == 0 { T0 + i } else { T0 + i - 3 };
        state = state.record_failure(&policy, DeviceTrust::Unknown, now_s);
    }
    assert!(matches!(
        state.check(DeviceTrust::Unknown, T0 + 10),
        ThrottleDecision::Locked { .. }
    ));
}
