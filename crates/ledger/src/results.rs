//! Every refusal has its own result code, reported per event. One table per kind of event gives
//! the stable machine name and the sentence a person reads, in Spanish first.

macro_rules! result_table {
    ($(#[$meta:meta])* $name:ident { $($variant:ident => $code:literal, $es:literal, $en:literal;)* }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum $name {
            $($variant,)*
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant,)*];

            /// The stable machine name. Never change one.
            pub fn code(self) -> &'static str {
                match self { $($name::$variant => $code,)* }
            }

            pub fn message_es(self) -> &'static str {
                match self { $($name::$variant => $es,)* }
            }

            pub fn message_en(self) -> &'static str {
                match self { $($name::$variant => $en,)* }
            }

            pub fn from_code(code: &str) -> Option<$name> {
                match code { $($code => Some($name::$variant),)* _ => None }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.code())
            }
        }
    };
}

result_table! {
    /// Why an account was not created (or `Ok`).
    CreateAccountResult {
        Ok => "ok", "Cuenta creada.", "Account created.";
        LinkedEventFailed => "linked_event_failed", "Otra operación de su cadena falló.", "Another event of its chain failed.";
        LinkedEventChainOpen => "linked_event_chain_open", "La última operación del lote no puede llevar la marca «linked».", "The last event of the batch cannot be linked.";
        FlagsAreUnknown => "flags_are_unknown", "La cuenta lleva marcas desconocidas.", "The account has unknown flags.";
        IdMustNotBeZero => "id_must_not_be_zero", "El identificador no puede ser 0.", "The id must not be zero.";
        IdMustNotBeIntMax => "id_must_not_be_int_max", "El identificador no puede ser el máximo (2^128-1).", "The id must not be 2^128-1.";
        FlagsAreMutuallyExclusive => "flags_are_mutually_exclusive", "Una cuenta no puede limitar a la vez débitos y créditos.", "An account cannot limit both debits and credits.";
        LedgerMustNotBeZero => "ledger_must_not_be_zero", "Falta el libro (moneda) de la cuenta.", "The ledger must not be zero.";
        CodeMustNotBeZero => "code_must_not_be_zero", "Falta el tipo de cuenta.", "The code must not be zero.";
        ExistsWithDifferentFlags => "exists_with_different_flags", "Ya existe una cuenta con ese identificador y otras marcas.", "An account with this id exists with other flags.";
        ExistsWithDifferentOwner => "exists_with_different_owner", "Ya existe una cuenta con ese identificador y otro titular.", "An account with this id exists with another owner.";
        ExistsWithDifferentLedger => "exists_with_different_ledger", "Ya existe una cuenta con ese identificador en otro libro.", "An account with this id exists in another ledger.";
        ExistsWithDifferentCode => "exists_with_different_code", "Ya existe una cuenta con ese identificador y otro tipo.", "An account with this id exists with another code.";
        Exists => "exists", "La cuenta ya existía con esos mismos datos.", "The account already exists with the same fields.";
    }
}

result_table! {
    /// Why a transfer was not created (or `Ok`).
    CreateTransferResult {
        Ok => "ok", "Transferencia creada.", "Transfer created.";
        LinkedEventFailed => "linked_event_failed", "Otra operación de su cadena falló.", "Another event of its chain failed.";
        LinkedEventChainOpen => "linked_event_chain_open", "La última operación del lote no puede llevar la marca «linked».", "The last event of the batch cannot be linked.";
        FlagsAreUnknown => "flags_are_unknown", "La transferencia lleva marcas desconocidas.", "The transfer has unknown flags.";
        IdMustNotBeZero => "id_must_not_be_zero", "El identificador no puede ser 0.", "The id must not be zero.";
        IdMustNotBeIntMax => "id_must_not_be_int_max", "El identificador no puede ser el máximo (2^128-1).", "The id must not be 2^128-1.";
        FlagsAreMutuallyExclusive => "flags_are_mutually_exclusive", "La transferencia combina marcas incompatibles.", "The transfer combines incompatible flags.";
        DebitAccountIdMustNotBeZero => "debit_account_id_must_not_be_zero", "Falta la cuenta de débito.", "The debit account id must not be zero.";
        DebitAccountIdMustNotBeIntMax => "debit_account_id_must_not_be_int_max", "La cuenta de débito no puede ser el máximo (2^128-1).", "The debit account id must not be 2^128-1.";
        CreditAccountIdMustNotBeZero => "credit_account_id_must_not_be_zero", "Falta la cuenta de crédito.", "The credit account id must not be zero.";
        CreditAccountIdMustNotBeIntMax => "credit_account_id_must_not_be_int_max", "La cuenta de crédito no puede ser el máximo (2^128-1).", "The credit account id must not be 2^128-1.";
        AccountsMustBeDifferent => "accounts_must_be_different", "Las cuentas de débito y de crédito deben ser distintas.", "The debit and credit accounts must differ.";
        PendingIdMustBeZero => "pending_id_must_be_zero", "Solo al asentar o anular una transferencia pendiente se indica «pending_id».", "Only a post or void names a pending id.";
        PendingIdMustNotBeZero => "pending_id_must_not_be_zero", "Falta la transferencia pendiente que se asienta o anula.", "The pending id must not be zero.";
        PendingIdMustNotBeIntMax => "pending_id_must_not_be_int_max", "La transferencia pendiente no puede ser el máximo (2^128-1).", "The pending id must not be 2^128-1.";
        PendingIdMustBeDifferent => "pending_id_must_be_different", "Una transferencia no puede resolverse a sí misma.", "A transfer cannot resolve itself.";
        TimeoutReservedForPendingTransfer => "timeout_reserved_for_pending_transfer", "Solo una transferencia pendiente puede tener plazo.", "Only a pending transfer has a timeout.";
        ClosingTransferMustBePending => "closing_transfer_must_be_pending", "Una transferencia que cierra una cuenta debe ser pendiente.", "A closing transfer must be pending.";
        AmountMustNotBeZero => "amount_must_not_be_zero", "El importe debe ser mayor que cero.", "The amount must be greater than zero.";
        LedgerMustNotBeZero => "ledger_must_not_be_zero", "Falta el libro (moneda) de la transferencia.", "The ledger must not be zero.";
        CodeMustNotBeZero => "code_must_not_be_zero", "Falta el tipo de transferencia.", "The code must not be zero.";
        DebitAccountNotFound => "debit_account_not_found", "La cuenta de débito no existe.", "The debit account does not exist.";
        CreditAccountNotFound => "credit_account_not_found", "La cuenta de crédito no existe.", "The credit account does not exist.";
        AccountsMustHaveTheSameLedger => "accounts_must_have_the_same_ledger", "Las dos cuentas deben ser del mismo libro (moneda).", "Both accounts must be in the same ledger.";
        TransferMustHaveTheSameLedgerAsAccounts => "transfer_must_have_the_same_ledger_as_accounts", "La transferencia debe ser del libro (moneda) de sus cuentas.", "The transfer must be in its accounts' ledger.";
        PendingTransferNotFound => "pending_transfer_not_found", "La transferencia pendiente no existe.", "The pending transfer does not exist.";
        PendingTransferNotPending => "pending_transfer_not_pending", "La transferencia indicada no es pendiente.", "The named transfer is not pending.";
        PendingTransferHasDifferentDebitAccountId => "pending_transfer_has_different_debit_account_id", "La transferencia pendiente tiene otra cuenta de débito.", "The pending transfer has another debit account.";
        PendingTransferHasDifferentCreditAccountId => "pending_transfer_has_different_credit_account_id", "La transferencia pendiente tiene otra cuenta de crédito.", "The pending transfer has another credit account.";
        PendingTransferHasDifferentLedger => "pending_transfer_has_different_ledger", "La transferencia pendiente es de otro libro.", "The pending transfer is in another ledger.";
        PendingTransferHasDifferentCode => "pending_transfer_has_different_code", "La transferencia pendiente es de otro tipo.", "The pending transfer has another code.";
        ExceedsPendingTransferAmount => "exceeds_pending_transfer_amount", "El importe supera el de la transferencia pendiente.", "The amount exceeds the pending amount.";
        PendingTransferHasDifferentAmount => "pending_transfer_has_different_amount", "Una anulación debe ser por el importe completo pendiente.", "A void must be for the whole pending amount.";
        PendingTransferAlreadyPosted => "pending_transfer_already_posted", "La transferencia pendiente ya se asentó.", "The pending transfer was already posted.";
        PendingTransferAlreadyVoided => "pending_transfer_already_voided", "La transferencia pendiente ya se anuló.", "The pending transfer was already voided.";
        PendingTransferExpired => "pending_transfer_expired", "La transferencia pendiente venció.", "The pending transfer expired.";
        ExistsWithDifferentFlags => "exists_with_different_flags", "Ya existe una transferencia con ese identificador y otras marcas.", "A transfer with this id exists with other flags.";
        ExistsWithDifferentDebitAccountId => "exists_with_different_debit_account_id", "Ya existe una transferencia con ese identificador y otra cuenta de débito.", "A transfer with this id exists with another debit account.";
        ExistsWithDifferentCreditAccountId => "exists_with_different_credit_account_id", "Ya existe una transferencia con ese identificador y otra cuenta de crédito.", "A transfer with this id exists with another credit account.";
        ExistsWithDifferentAmount => "exists_with_different_amount", "Ya existe una transferencia con ese identificador y otro importe.", "A transfer with this id exists with another amount.";
        ExistsWithDifferentPendingId => "exists_with_different_pending_id", "Ya existe una transferencia con ese identificador y otra pendiente.", "A transfer with this id exists with another pending id.";
        ExistsWithDifferentUserData => "exists_with_different_user_data", "Ya existe una transferencia con ese identificador y otros datos.", "A transfer with this id exists with other user data.";
        ExistsWithDifferentTimeout => "exists_with_different_timeout", "Ya existe una transferencia con ese identificador y otro plazo.", "A transfer with this id exists with another timeout.";
        ExistsWithDifferentLedger => "exists_with_different_ledger", "Ya existe una transferencia con ese identificador en otro libro.", "A transfer with this id exists in another ledger.";
        ExistsWithDifferentCode => "exists_with_different_code", "Ya existe una transferencia con ese identificador y otro tipo.", "A transfer with this id exists with another code.";
        Exists => "exists", "La transferencia ya existía con esos mismos datos.", "The transfer already exists with the same fields.";
        DebitAccountAlreadyClosed => "debit_account_already_closed", "La cuenta de débito está cerrada.", "The debit account is closed.";
        CreditAccountAlreadyClosed => "credit_account_already_closed", "La cuenta de crédito está cerrada.", "The credit account is closed.";
        OverflowsDebitsPending => "overflows_debits_pending", "Los débitos pendientes de la cuenta desbordarían.", "The account's pending debits would overflow.";
        OverflowsCreditsPending => "overflows_credits_pending", "Los créditos pendientes de la cuenta desbordarían.", "The account's pending credits would overflow.";
        OverflowsDebitsPosted => "overflows_debits_posted", "Los débitos asentados de la cuenta desbordarían.", "The account's posted debits would overflow.";
        OverflowsCreditsPosted => "overflows_credits_posted", "Los créditos asentados de la cuenta desbordarían.", "The account's posted credits would overflow.";
        OverflowsDebits => "overflows_debits", "El total de débitos de la cuenta desbordaría.", "The account's total debits would overflow.";
        OverflowsCredits => "overflows_credits", "El total de créditos de la cuenta desbordaría.", "The account's total credits would overflow.";
        OverflowsTimeout => "overflows_timeout", "El plazo va más allá del tiempo representable.", "The timeout goes past the representable time.";
        ExceedsCredits => "exceeds_credits", "Saldo insuficiente en la cuenta de débito.", "Insufficient funds in the debit account.";
        ExceedsDebits => "exceeds_debits", "La cuenta de crédito no puede recibir tanto.", "The credit account cannot receive that much.";
    }
}
