//! Enciclopedia's model, the collaborative encyclopedia that travels offline: wikitext (the
//! MediaWiki subset real articles use) rendered to HTML no markup can inject a script into
//! ([`markup`]), revisions with their diffs and three-way merges ([`revision`]), the editorial
//! rules — roles, protection, pending changes, abuse filters ([`rules`]) — and the MediaWiki
//! XML export format read for import ([`mediawiki`]).
//!
//! Architecture Invariant: no IO, no clock (times are given), no async runtime, no SQL, no
//! HTTP.

pub mod markup;
pub mod mediawiki;
pub mod revision;
pub mod rules;
