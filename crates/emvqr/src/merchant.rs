//! Building a payload from a merchant's fields.

use std::collections::HashSet;

use crate::error::BuildError;
use crate::fields::{self, FieldId, Problem};
use crate::payload::{self, PAYLOAD_CHARS_MAX, Payload, PointOfInitiation, Tip};
use crate::tlv::{DataObject, Tag};

/// Ceiba's globally unique identifier in the merchant account template.
pub const CEIBA_IDENTIFIER: &str = "cu.ceiba";
/// The template ID Ceiba's merchant account information goes in.
pub const CEIBA_ACCOUNT_TEMPLATE: u8 = 26;

/// What a merchant's QR code says. Fill in the fields and call [`MerchantQr::build`] or
/// [`MerchantQr::encode`], which refuse empty, too long or malformed values and control
/// characters, and append the CRC. The data objects come out in ID order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MerchantQr {
    /// ID 01.
    pub point_of_initiation: PointOfInitiation,
    /// IDs 26 to 51: at least one.
    pub accounts: Vec<MerchantAccount>,
    /// ID 52: ISO 18245, four digits ("5411" for grocery stores).
    pub category_code: String,
    /// ID 53: ISO 4217 numeric, three digits ("192" for the Cuban peso).
    pub currency: String,
    /// ID 54: digits with at most one decimal point ("12.50"), at most 13 characters.
    pub amount: Option<String>,
    /// IDs 55 to 57.
    pub tip: Option<Tip>,
    /// ID 58: ISO 3166-1 alpha-2 ("CU").
    pub country: String,
    /// ID 59: at most 25 characters.
    pub name: String,
    /// ID 60: at most 15 characters.
    pub city: String,
    /// ID 61: at most 10 characters.
    pub postal_code: Option<String>,
    /// ID 62; left out when every field is `None`.
    pub additional_data: AdditionalDataFields,
    /// ID 64.
    pub alternate_language: Option<AlternateLanguageFields>,
}

/// One merchant account information template (IDs 26 to 51).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MerchantAccount {
    /// 26 to 51.
    pub template: u8,
    /// Subfield 00: who runs the account, such as a reverse domain name ("cu.ceiba"), at most 32
    /// characters.
    pub globally_unique_identifier: String,
    /// Subfields 01 to 99, the payment system's own.
    pub fields: Vec<(u8, String)>,
}

impl MerchantAccount {
    /// A merchant's account in Ceiba: template 26, identifier "cu.ceiba", the account id in
    /// subfield 01.
    #[must_use]
    pub fn ceiba(account_id: &str) -> MerchantAccount {
        MerchantAccount {
            template: CEIBA_ACCOUNT_TEMPLATE,
            globally_unique_identifier: CEIBA_IDENTIFIER.to_owned(),
            fields: vec![(1, account_id.to_owned())],
        }
    }
}

/// The additional data template (ID 62); each at most 25 characters.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AdditionalDataFields {
    /// 01.
    pub bill_number: Option<String>,
    /// 02.
    pub mobile_number: Option<String>,
    /// 03.
    pub store_label: Option<String>,
    /// 04.
    pub loyalty_number: Option<String>,
    /// 05.
    pub reference_label: Option<String>,
    /// 06.
    pub customer_label: Option<String>,
    /// 07.
    pub terminal_label: Option<String>,
    /// 08.
    pub purpose: Option<String>,
}

/// The merchant's name and city in another language (ID 64).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlternateLanguageFields {
    /// 00: ISO 639-1, two letters ("en").
    pub language: String,
    /// 01: at most 25 characters.
    pub name: String,
    /// 02: at most 15 characters.
    pub city: Option<String>,
}

impl MerchantQr {
    /// The payload, CRC included.
    ///
    /// # Errors
    /// The first field that cannot go in, as a [`BuildError`].
    pub fn build(&self) -> Result<Payload, BuildError> {
        let mut objects = vec![
            primitive(fields::PAYLOAD_FORMAT_INDICATOR, "01")?,
            primitive(fields::POINT_OF_INITIATION, self.point_of_initiation.code())?,
        ];
        objects.extend(self.account_templates()?);
        objects.push(primitive(fields::CATEGORY_CODE, &self.category_code)?);
        objects.push(primitive(fields::CURRENCY, &self.currency)?);
        if let Some(amount) = &self.amount {
            objects.push(primitive(fields::AMOUNT, amount)?);
        }
        match &self.tip {
            None => {}
            Some(Tip::Prompt) => objects.push(primitive(fields::TIP_INDICATOR, "01")?),
            Some(Tip::Fixed(fee)) => {
                objects.push(primitive(fields::TIP_INDICATOR, "02")?);
                objects.push(primitive(fields::FEE_FIXED, fee)?);
            }
            Some(Tip::Percentage(fee)) => {
                objects.push(primitive(fields::TIP_INDICATOR, "03")?);
                objects.push(primitive(fields::FEE_PERCENTAGE, fee)?);
            }
        }
        objects.push(primitive(fields::COUNTRY, &self.country)?);
        objects.push(primitive(fields::MERCHANT_NAME, &self.name)?);
        objects.push(primitive(fields::MERCHANT_CITY, &self.city)?);
        if let Some(postal_code) = &self.postal_code {
            objects.push(primitive(fields::POSTAL_CODE, postal_code)?);
        }
        let data = &self.additional_data;
        let additional: Vec<(u8, &Option<String>)> = vec![
            (1, &data.bill_number),
            (2, &data.mobile_number),
            (3, &data.store_label),
            (4, &data.loyalty_number),
            (5, &data.reference_label),
            (6, &data.customer_label),
            (7, &data.terminal_label),
            (8, &data.purpose),
        ];
        let additional = additional
            .into_iter()
            .filter_map(|(number, value)| value.as_deref().map(|value| (number, value)));
        let additional = subfields(fields::ADDITIONAL_DATA, additional)?;
        if !additional.is_empty() {
            objects.push(template(fields::ADDITIONAL_DATA, additional)?);
        }
        if let Some(language) = &self.alternate_language {
            let mut inner = vec![
                (fields::LANGUAGE_PREFERENCE, language.language.as_str()),
                (fields::ALTERNATE_NAME, language.name.as_str()),
            ];
            if let Some(city) = &language.city {
                inner.push((fields::ALTERNATE_CITY, city));
            }
            let inner = subfields(fields::LANGUAGE_TEMPLATE, inner)?;
            objects.push(template(fields::LANGUAGE_TEMPLATE, inner)?);
        }

        let mut text = Payload::from_objects(objects.clone()).encode();
        let chars = text.chars().count() + 8;
        if chars > PAYLOAD_CHARS_MAX {
            return Err(BuildError::PayloadTooLong {
                chars,
                chars_max: PAYLOAD_CHARS_MAX,
            });
        }
        text.push_str("6304");
        let crc = payload::checksum_text(text.as_bytes());
        objects.push(DataObject::primitive(Tag::known(fields::CRC), crc));
        let built = Payload::from_objects(objects);
        // Post-condition: what we write, we read back as written.
        debug_assert_eq!(payload::decode(&built.encode()).as_ref(), Ok(&built));
        Ok(built)
    }

    /// The payload as text, CRC included.
    ///
    /// # Errors
    /// As [`MerchantQr::build`].
    pub fn encode(&self) -> Result<String, BuildError> {
        self.build().map(|payload| payload.encode())
    }

    fn account_templates(&self) -> Result<Vec<DataObject>, BuildError> {
        if self.accounts.is_empty() {
            return Err(BuildError::NoMerchantAccount);
        }
        let mut accounts: Vec<&MerchantAccount> = self.accounts.iter().collect();
        accounts.sort_by_key(|account| account.template);
        let mut templates = Vec::with_capacity(accounts.len());
        let mut seen = HashSet::new();
        for account in accounts {
            let number = account.template;
            if !(26..=51).contains(&number) {
                return Err(BuildError::AccountOutOfRange { number });
            }
            if !seen.insert(number) {
                return Err(BuildError::Duplicate {
                    field: FieldId::top(number),
                });
            }
            let mut inner = vec![(
                fields::GLOBALLY_UNIQUE_IDENTIFIER,
                account.globally_unique_identifier.as_str(),
            )];
            for (sub, value) in &account.fields {
                if *sub == fields::GLOBALLY_UNIQUE_IDENTIFIER || *sub > 99 {
                    return Err(BuildError::SubfieldOutOfRange {
                        template: Tag::known(number),
                        number: *sub,
                    });
                }
                inner.push((*sub, value.as_str()));
            }
            inner.sort_by_key(|(sub, _)| *sub);
            templates.push(template(number, subfields(number, inner)?)?);
        }
        Ok(templates)
    }
}

/// A top-level primitive data object whose value passed its field's checks.
fn primitive(number: u8, value: &str) -> Result<DataObject, BuildError> {
    let field = FieldId::top(number);
    check(field, value)?;
    Ok(DataObject::primitive(field.tag(), value.to_owned()))
}

/// Checked subfields of `template`, each ID at most once.
fn subfields<'a>(
    template: u8,
    values: impl IntoIterator<Item = (u8, &'a str)>,
) -> Result<Vec<DataObject>, BuildError> {
    let mut objects = Vec::new();
    let mut seen = HashSet::new();
    for (number, value) in values {
        let field = FieldId::inside(template, number);
        if !seen.insert(number) {
            return Err(BuildError::Duplicate { field });
        }
        check(field, value)?;
        objects.push(DataObject::primitive(field.tag(), value.to_owned()));
    }
    Ok(objects)
}

fn template(number: u8, objects: Vec<DataObject>) -> Result<DataObject, BuildError> {
    let object = DataObject::template(Tag::known(number), objects);
    let chars = object.value_chars();
    if chars > 99 {
        return Err(BuildError::TemplateTooLong {
            field: FieldId::top(number),
            chars,
        });
    }
    Ok(object)
}

/// The decoder's rule for the field, plus what only a writer must refuse: nothing empty, and no
/// control characters (which no payment application would show sensibly).
fn check(field: FieldId, value: &str) -> Result<(), BuildError> {
    if value.is_empty() {
        return Err(BuildError::Empty { field });
    }
    if value.chars().any(char::is_control) {
        return Err(BuildError::ControlCharacter { field });
    }
    fields::rule(field)
        .check(value)
        .map_err(|problem| match problem {
            Problem::Malformed { expected } => BuildError::Malformed {
                field,
                expected,
                found: value.to_owned(),
            },
            Problem::TooLong { chars, chars_max } => BuildError::ValueTooLong {
                field,
                chars,
                chars_max,
            },
        })
}
