//! A decoded payload: its data objects in order, the checks that make it valid, and what they
//! mean.

use std::collections::HashSet;
use std::ops::Range;

use crate::error::DecodeError;
use crate::fields::{self, FieldId, Problem};
use crate::tlv::{self, DataObject, Tag, Token};

/// The most characters a payload may have (EMV QRCPS merchant-presented mode); also what keeps
/// decoding cheap whatever arrives.
pub const PAYLOAD_CHARS_MAX: usize = 512;

/// CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF, no reflection, no final xor), as EMV QR uses.
const CRC16: crc::Crc<u16> = crc::Crc::<u16>::new(&crc::CRC_16_IBM_3740);

/// The CRC of `bytes`, as EMV QR computes it (`"123456789"` gives 0x29B1).
#[must_use]
pub fn checksum(bytes: &[u8]) -> u16 {
    CRC16.checksum(bytes)
}

/// The CRC of `bytes` as a payload writes it: four upper-case hexadecimal digits.
pub(crate) fn checksum_text(bytes: &[u8]) -> String {
    format!("{:04X}", checksum(bytes))
}

/// How a QR code is meant to be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PointOfInitiation {
    /// "11": the same code for many payments (a sticker at the till).
    #[default]
    Static,
    /// "12": a new code for each payment, usually with its amount.
    Dynamic,
}

impl PointOfInitiation {
    pub(crate) fn code(self) -> &'static str {
        match self {
            PointOfInitiation::Static => "11",
            PointOfInitiation::Dynamic => "12",
        }
    }
}

/// Whether the person paying adds a tip or a fee (ID 55 and, with it, 56 or 57).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Tip {
    /// "01": the paying application asks for a tip.
    Prompt,
    /// "02": a fixed fee, the value of ID 56 (such as "1.00").
    Fixed(String),
    /// "03": a fee in percent of the amount, the value of ID 57 (such as "3.5").
    Percentage(String),
}

/// A valid merchant-presented payload. Only [`decode`] and the builder make one, so every
/// `Payload` has passed every check: its mandatory fields are present and well formed, and its
/// CRC is right.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Payload {
    objects: Vec<DataObject>,
}

/// Decodes and validates a payload given as bytes (as a scanner may hand them over).
///
/// # Errors
/// [`DecodeError::NotUtf8`] when the bytes are not UTF-8, else as [`decode`].
pub fn decode_bytes(bytes: &[u8]) -> Result<Payload, DecodeError> {
    match std::str::from_utf8(bytes) {
        Ok(text) => decode(text),
        Err(error) => Err(DecodeError::NotUtf8 {
            byte: error.valid_up_to(),
        }),
    }
}

/// Decodes and validates a payload. Never panics, whatever `text` holds.
///
/// The checks run in this order, and the first that fails is the answer: size; the structure of
/// the top level (IDs, lengths); 00 first; 63 last; the CRC; the structure inside templates;
/// repeated IDs; mandatory fields; each field's format and length. A lower-case CRC is accepted.
///
/// # Errors
/// The first problem found, as a [`DecodeError`] whose message says what and, where it helps,
/// at which character.
pub fn decode(text: &str) -> Result<Payload, DecodeError> {
    if text.is_empty() {
        return Err(DecodeError::Empty);
    }
    if text.chars().nth(PAYLOAD_CHARS_MAX).is_some() {
        return Err(DecodeError::TooLong {
            chars_max: PAYLOAD_CHARS_MAX,
        });
    }
    let chars: Vec<char> = text.chars().collect();
    let tokens = tlv::split(&chars, 0..chars.len(), None)?;

    // `split` refused an empty run, so there is a first and a last token.
    let (Some(first), Some(last)) = (tokens.first(), tokens.last()) else {
        return Err(DecodeError::Empty);
    };
    if first.tag.number() != fields::PAYLOAD_FORMAT_INDICATOR {
        return Err(DecodeError::FormatIndicatorNotFirst { found: first.tag });
    }
    check_crc(text, &chars, &tokens, last)?;

    let mut objects = Vec::with_capacity(tokens.len());
    let mut inner_tokens = Vec::new();
    for token in &tokens {
        let number = token.tag.number();
        if fields::is_template(number) {
            let inner = tlv::split(&chars, token.value.clone(), Some(token.tag))?;
            let children = inner
                .iter()
                .map(|child| DataObject::primitive(child.tag, collect(&chars, &child.value)))
                .collect();
            objects.push(DataObject::template(token.tag, children));
            inner_tokens.push((token.tag, inner));
        } else {
            objects.push(DataObject::primitive(
                token.tag,
                collect(&chars, &token.value),
            ));
        }
    }

    check_unique(None, &tokens)?;
    for (template, inner) in &inner_tokens {
        check_unique(Some(*template), inner)?;
    }
    let payload = Payload { objects };
    payload.check_mandatory()?;
    payload.check_values()?;
    Ok(payload)
}

fn collect(chars: &[char], range: &Range<usize>) -> String {
    chars
        .get(range.clone())
        .unwrap_or_default()
        .iter()
        .collect()
}

/// 63 is last, holds four hexadecimal digits, and they are the CRC of everything before them.
fn check_crc(
    text: &str,
    chars: &[char],
    tokens: &[Token],
    last: &Token,
) -> Result<(), DecodeError> {
    let crc_field = FieldId::top(fields::CRC);
    if last.tag.number() != fields::CRC {
        let crc_position = tokens
            .iter()
            .position(|token| token.tag.number() == fields::CRC);
        return Err(match crc_position.and_then(|index| tokens.get(index + 1)) {
            Some(next) => DecodeError::CrcNotLast { next: next.tag },
            None => DecodeError::MissingField { field: crc_field },
        });
    }
    let found = collect(chars, &last.value);
    fields::rule(crc_field)
        .check(&found)
        .map_err(|problem| to_decode_error(crc_field, &found, problem))?;
    // The value is four ASCII characters ending the text, so its bytes are the last four.
    let covered = text
        .len()
        .checked_sub(4)
        .and_then(|end| text.as_bytes().get(..end))
        .unwrap_or_default();
    let expected = checksum_text(covered);
    if !expected.eq_ignore_ascii_case(&found) {
        return Err(DecodeError::CrcMismatch { expected, found });
    }
    Ok(())
}

fn check_unique(template: Option<Tag>, tokens: &[Token]) -> Result<(), DecodeError> {
    let mut seen = HashSet::new();
    for token in tokens {
        if !seen.insert(token.tag) {
            return Err(DecodeError::DuplicateId {
                field: FieldId::new(template, token.tag),
                at: token.at,
            });
        }
    }
    Ok(())
}

pub(crate) fn to_decode_error(field: FieldId, value: &str, problem: Problem) -> DecodeError {
    match problem {
        Problem::Malformed { expected } => DecodeError::Malformed {
            field,
            expected,
            found: value.to_owned(),
        },
        Problem::TooLong { chars, chars_max } => DecodeError::ValueTooLong {
            field,
            chars,
            chars_max,
        },
    }
}

impl Payload {
    pub(crate) fn from_objects(objects: Vec<DataObject>) -> Payload {
        Payload { objects }
    }

    /// The payload as text, exactly as it was decoded (or built), CRC included.
    #[must_use]
    pub fn encode(&self) -> String {
        let mut out = String::new();
        for object in &self.objects {
            object.encode_into(&mut out);
        }
        out
    }

    /// Every data object, in the order of the payload.
    #[must_use]
    pub fn objects(&self) -> &[DataObject] {
        &self.objects
    }

    /// The top-level data object `number`.
    #[must_use]
    pub fn get(&self, number: u8) -> Option<&DataObject> {
        self.objects.iter().find(|o| o.tag().number() == number)
    }

    fn text(&self, number: u8) -> Option<&str> {
        tlv::text_of(&self.objects, number)
    }

    /// For a mandatory field, present in every `Payload`.
    fn mandatory(&self, number: u8) -> &str {
        self.text(number).unwrap_or_default()
    }

    /// ID 59.
    #[must_use]
    pub fn merchant_name(&self) -> &str {
        self.mandatory(fields::MERCHANT_NAME)
    }

    /// ID 60.
    #[must_use]
    pub fn merchant_city(&self) -> &str {
        self.mandatory(fields::MERCHANT_CITY)
    }

    /// ID 52: the merchant category code (ISO 18245), four digits.
    #[must_use]
    pub fn category_code(&self) -> &str {
        self.mandatory(fields::CATEGORY_CODE)
    }

    /// ID 53: the currency's ISO 4217 numeric code, three digits ("192" for the Cuban peso).
    #[must_use]
    pub fn currency(&self) -> &str {
        self.mandatory(fields::CURRENCY)
    }

    /// ID 58: ISO 3166-1 alpha-2, two upper-case letters.
    #[must_use]
    pub fn country(&self) -> &str {
        self.mandatory(fields::COUNTRY)
    }

    /// ID 54, as written ("12.50"): digits with at most one decimal point.
    #[must_use]
    pub fn amount(&self) -> Option<&str> {
        self.text(fields::AMOUNT)
    }

    /// ID 01; `None` when the payload does not say.
    #[must_use]
    pub fn point_of_initiation(&self) -> Option<PointOfInitiation> {
        match self.text(fields::POINT_OF_INITIATION)? {
            "11" => Some(PointOfInitiation::Static),
            "12" => Some(PointOfInitiation::Dynamic),
            _ => None,
        }
    }

    /// IDs 55 to 57.
    #[must_use]
    pub fn tip(&self) -> Option<Tip> {
        let fee = |number| self.text(number).unwrap_or_default().to_owned();
        match self.text(fields::TIP_INDICATOR)? {
            "01" => Some(Tip::Prompt),
            "02" => Some(Tip::Fixed(fee(fields::FEE_FIXED))),
            "03" => Some(Tip::Percentage(fee(fields::FEE_PERCENTAGE))),
            _ => None,
        }
    }

    /// ID 61.
    #[must_use]
    pub fn postal_code(&self) -> Option<&str> {
        self.text(fields::POSTAL_CODE)
    }

    /// IDs 02 to 51, in the order of the payload: primitive ones (02–25, the card networks'
    /// own) and templates (26–51, with their globally unique identifier in subfield 00).
    pub fn merchant_accounts(&self) -> impl Iterator<Item = &DataObject> {
        self.objects
            .iter()
            .filter(|o| fields::is_merchant_account(o.tag().number()))
    }

    /// ID 62.
    #[must_use]
    pub fn additional_data(&self) -> Option<AdditionalData<'_>> {
        self.get(fields::ADDITIONAL_DATA)
            .map(|template| AdditionalData {
                objects: template.objects(),
            })
    }

    /// Subfield 05 of ID 62.
    #[must_use]
    pub fn reference_label(&self) -> Option<&str> {
        self.additional_data()?.reference_label()
    }

    /// Subfield 01 of ID 62.
    #[must_use]
    pub fn bill_number(&self) -> Option<&str> {
        self.additional_data()?.bill_number()
    }

    /// ID 64.
    #[must_use]
    pub fn alternate_language(&self) -> Option<AlternateLanguage<'_>> {
        self.get(fields::LANGUAGE_TEMPLATE)
            .map(|template| AlternateLanguage {
                objects: template.objects(),
            })
    }

    /// IDs 80 to 99, each with its globally unique identifier in subfield 00.
    pub fn unreserved_templates(&self) -> impl Iterator<Item = &DataObject> {
        self.objects
            .iter()
            .filter(|o| (80..=99).contains(&o.tag().number()))
    }

    /// ID 63, four hexadecimal digits.
    #[must_use]
    pub fn crc(&self) -> &str {
        self.mandatory(fields::CRC)
    }

    fn check_mandatory(&self) -> Result<(), DecodeError> {
        if self.merchant_accounts().next().is_none() {
            return Err(DecodeError::MissingMerchantAccount);
        }
        for number in [
            fields::CATEGORY_CODE,
            fields::CURRENCY,
            fields::COUNTRY,
            fields::MERCHANT_NAME,
            fields::MERCHANT_CITY,
        ] {
            if self.get(number).is_none() {
                return Err(DecodeError::MissingField {
                    field: FieldId::top(number),
                });
            }
        }
        let fee = match self.text(fields::TIP_INDICATOR) {
            Some(indicator @ "02") => Some((indicator, fields::FEE_FIXED)),
            Some(indicator @ "03") => Some((indicator, fields::FEE_PERCENTAGE)),
            _ => None,
        };
        if let Some((indicator, number)) = fee
            && self.get(number).is_none()
        {
            return Err(DecodeError::FeeMissing {
                indicator: indicator.to_owned(),
                field: FieldId::top(number),
            });
        }
        Ok(())
    }

    fn check_values(&self) -> Result<(), DecodeError> {
        for object in &self.objects {
            let number = object.tag().number();
            if !fields::is_template(number) {
                let field = FieldId::new(None, object.tag());
                check_value(field, object.text().unwrap_or_default())?;
                continue;
            }
            let required: &[u8] = match number {
                fields::LANGUAGE_TEMPLATE => &[fields::LANGUAGE_PREFERENCE, fields::ALTERNATE_NAME],
                _ if fields::needs_identifier(number) => &[fields::GLOBALLY_UNIQUE_IDENTIFIER],
                _ => &[],
            };
            for &inner in required {
                if object.field(inner).is_none() {
                    return Err(DecodeError::MissingField {
                        field: FieldId::inside(number, inner),
                    });
                }
            }
            for child in object.objects() {
                let field = FieldId::new(Some(object.tag()), child.tag());
                check_value(field, child.text().unwrap_or_default())?;
            }
        }
        Ok(())
    }
}

fn check_value(field: FieldId, value: &str) -> Result<(), DecodeError> {
    fields::rule(field)
        .check(value)
        .map_err(|problem| to_decode_error(field, value, problem))
}

/// The additional data (ID 62) of a payload.
#[derive(Debug, Clone, Copy)]
pub struct AdditionalData<'a> {
    objects: &'a [DataObject],
}

impl<'a> AdditionalData<'a> {
    /// Subfield `number`, whatever it is (10 and up are newer or payment-system specific).
    #[must_use]
    pub fn get(&self, number: u8) -> Option<&'a str> {
        tlv::text_of(self.objects, number)
    }

    /// Every subfield, in the order of the payload.
    #[must_use]
    pub fn objects(&self) -> &'a [DataObject] {
        self.objects
    }

    /// 01.
    #[must_use]
    pub fn bill_number(&self) -> Option<&'a str> {
        self.get(1)
    }

    /// 02.
    #[must_use]
    pub fn mobile_number(&self) -> Option<&'a str> {
        self.get(2)
    }

    /// 03.
    #[must_use]
    pub fn store_label(&self) -> Option<&'a str> {
        self.get(3)
    }

    /// 04.
    #[must_use]
    pub fn loyalty_number(&self) -> Option<&'a str> {
        self.get(4)
    }

    /// 05.
    #[must_use]
    pub fn reference_label(&self) -> Option<&'a str> {
        self.get(5)
    }

    /// 06.
    #[must_use]
    pub fn customer_label(&self) -> Option<&'a str> {
        self.get(6)
    }

    /// 07.
    #[must_use]
    pub fn terminal_label(&self) -> Option<&'a str> {
        self.get(7)
    }

    /// 08.
    #[must_use]
    pub fn purpose(&self) -> Option<&'a str> {
        self.get(8)
    }

    /// 09: what the paying application must ask for (A address, M mobile, E e-mail).
    #[must_use]
    pub fn consumer_data_request(&self) -> Option<&'a str> {
        self.get(9)
    }
}

/// The merchant's name and city in another language (ID 64).
#[derive(Debug, Clone, Copy)]
pub struct AlternateLanguage<'a> {
    objects: &'a [DataObject],
}

impl<'a> AlternateLanguage<'a> {
    /// 00: ISO 639-1, two letters.
    #[must_use]
    pub fn language(&self) -> &'a str {
        tlv::text_of(self.objects, fields::LANGUAGE_PREFERENCE).unwrap_or_default()
    }

    /// 01.
    #[must_use]
    pub fn merchant_name(&self) -> &'a str {
        tlv::text_of(self.objects, fields::ALTERNATE_NAME).unwrap_or_default()
    }

    /// 02.
    #[must_use]
    pub fn merchant_city(&self) -> Option<&'a str> {
        tlv::text_of(self.objects, fields::ALTERNATE_CITY)
    }
}
