//! Drills for every parser that takes outside input: one check function per target, which
//! feeds the fuzzer's bytes to the real parser and asserts what the parser promises.
//!
//! - It never panics, whatever the bytes: a refusal is an error value with a message.
//! - Where the format has an encoder, what is accepted encodes back to the input (or to a
//!   canonical form that parses to the same value).
//! - What comes out is bounded by what went in and by the parser's documented limits.
//!
//! The same functions run in two places: the cargo-fuzz targets in `fuzz/` (one two-line
//! `fuzz_target!` each, on stable with `--sanitizer none`) and the proptest suites of this
//! crate's `tests/`, which CI runs on arbitrary bytes, on real samples and on mutations of
//! them. A failing input found by either is kept in `regressions/<target>/` and replayed
//! through [`TARGETS`] by the test suite.
//!
//! Formats that need structure to get anywhere (a ZIM file's header and checksum, an EMV QR
//! code's CRC, a Merkle proof that is genuine before it is broken) have structure-aware
//! targets too: they build a valid input from the bytes, then mutate it with the rest.
//!
//! A check function panics only when a property is broken: that panic is the fuzzer's finding.
//!
//! The bills and payouts importers read their files with `ceiba_payments::files`, the code
//! [`bills_import`] and [`payouts_import`] drive; only the lookups that need the database (who
//! a phone number is, whose an account is) stay in the web crate.

mod audit;
mod emvqr;
mod identity;
mod imports;
mod input;
mod ussd;
mod wiki;
mod zim;

pub use audit::{audit_checkpoint, audit_proof};
pub use emvqr::emv_qr;
pub use identity::{national_id, phone_number};
pub use imports::{bills_import, cases_archive, cases_csv, cases_json, payouts_import};
pub use input::Unstructured;
pub use ussd::ussd_input;
pub use wiki::{mediawiki_xml, wikitext};
pub use zim::{zim_built, zim_file};

/// A check function: panics when the parser breaks one of its properties on this input.
pub type Check = fn(&[u8]);

/// Every target by the name of its fuzz target (`fuzz/fuzz_targets/<name>.rs`) and of its
/// regression folder (`regressions/<name>/`).
pub const TARGETS: &[(&str, Check)] = &[
    ("emv_qr", emv_qr),
    ("ussd_input", ussd_input),
    ("phone_number", phone_number),
    ("national_id", national_id),
    ("wikitext", wikitext),
    ("mediawiki_xml", mediawiki_xml),
    ("zim_file", zim_file),
    ("zim_built", zim_built),
    ("bills_import", bills_import),
    ("payouts_import", payouts_import),
    ("cases_csv", cases_csv),
    ("cases_json", cases_json),
    ("cases_archive", cases_archive),
    ("audit_proof", audit_proof),
    ("audit_checkpoint", audit_checkpoint),
];

/// The check function of a target, by name.
#[must_use]
pub fn target(name: &str) -> Option<Check> {
    TARGETS
        .iter()
        .find(|(target, _)| *target == name)
        .map(|(_, check)| *check)
}
