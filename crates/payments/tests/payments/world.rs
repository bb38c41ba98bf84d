//! A real ledger with the operator's accounts, and helpers to open wallets and run plans on it.

use ceiba_ledger::{
    AccountId, CreateAccountResult, CreateTransferResult, LedgerState, NewAccount, NewTransfer,
    Operation, OperationResults, check,
};
use ceiba_payments::{Currency, PlanRefusal, WalletCaps, accounts, plan};

pub struct World {
    pub ledger: LedgerState,
    pub caps: WalletCaps,
    /// The ledger's clock, advanced by a second each batch.
    now_ns: u64,
}

impl World {
    /// A ledger holding the operator's accounts.
    pub fn new(caps: WalletCaps) -> World {
        let mut world = World {
            ledger: LedgerState::new(),
            caps,
            now_ns: 1_700_000_000_000_000_000,
        };
        let results = world.create_accounts(accounts::operator_accounts());
        assert!(
            results
                .iter()
                .all(|result| *result == CreateAccountResult::Ok),
            "{results:?}"
        );
        world
    }

    pub fn create_accounts(&mut self, new: Vec<NewAccount>) -> Vec<CreateAccountResult> {
        self.now_ns += 1_000_000_000;
        match self
            .ledger
            .apply(self.now_ns, &[Operation::CreateAccounts(new)])
            .pop()
        {
            Some(OperationResults::CreateAccounts(results)) => results,
            other => panic!("unexpected results {other:?}"),
        }
    }

    pub fn submit(&mut self, transfers: &[NewTransfer]) -> Vec<CreateTransferResult> {
        self.now_ns += 1_000_000_000;
        match self
            .ledger
            .apply(
                self.now_ns,
                &[Operation::CreateTransfers(transfers.to_vec())],
            )
            .pop()
        {
            Some(OperationResults::CreateTransfers(results)) => results,
            other => panic!("unexpected results {other:?}"),
        }
    }

    /// Lets `seconds` pass on the ledger's clock with an empty batch, in which pending transfers
    /// whose timeout has come expire (as the store's writer does when nobody writes).
    pub fn pass_seconds(&mut self, seconds: u64) {
        self.now_ns += seconds * 1_000_000_000;
        assert!(self.ledger.apply(self.now_ns, &[]).is_empty());
    }

    /// Submits a plan and reads its outcome as the payments service does.
    pub fn run(&mut self, legs: &[NewTransfer]) -> Option<PlanRefusal> {
        let results = self.submit(legs);
        plan::refusal(legs, &results)
    }

    /// Opens a wallet and funds its headroom with the cap, as the service does.
    pub fn open_wallet(&mut self, user: &str, currency: Currency) {
        let results = self.create_accounts(accounts::wallet_accounts(user, currency).to_vec());
        assert!(
            results
                .iter()
                .all(|result| *result == CreateAccountResult::Ok),
            "{results:?}"
        );
        let funding = plan::headroom_funding(
            user,
            currency,
            self.caps.cap(currency),
            plan::wallet_opening_operation(user, currency),
        );
        assert_eq!(self.submit(&[funding]), [CreateTransferResult::Ok]);
    }

    /// Credits minus debits, posted: what a wallet or headroom account holds.
    pub fn held(&self, account: AccountId) -> i128 {
        let balances = self
            .ledger
            .account(account)
            .expect("the account exists")
            .balances;
        i128::try_from(balances.credits_posted).expect("small")
            - i128::try_from(balances.debits_posted).expect("small")
    }

    pub fn wallet(&self, user: &str, currency: Currency) -> i128 {
        self.held(accounts::wallet(user, currency))
    }

    pub fn headroom(&self, user: &str, currency: Currency) -> i128 {
        self.held(accounts::headroom(user, currency))
    }

    pub fn assert_sound(&self) {
        let report = check(&self.ledger);
        assert!(report.is_sound(), "{:?}", report.violations);
    }
}
