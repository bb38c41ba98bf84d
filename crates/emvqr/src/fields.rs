//! What each ID means and what its value may hold: one table, read by the decoder and by the
//! builder alike, so that what one writes the other accepts.

use std::fmt;

use crate::tlv::Tag;

pub(crate) const PAYLOAD_FORMAT_INDICATOR: u8 = 0;
pub(crate) const POINT_OF_INITIATION: u8 = 1;
pub(crate) const CATEGORY_CODE: u8 = 52;
pub(crate) const CURRENCY: u8 = 53;
pub(crate) const AMOUNT: u8 = 54;
pub(crate) const TIP_INDICATOR: u8 = 55;
pub(crate) const FEE_FIXED: u8 = 56;
pub(crate) const FEE_PERCENTAGE: u8 = 57;
pub(crate) const COUNTRY: u8 = 58;
pub(crate) const MERCHANT_NAME: u8 = 59;
pub(crate) const MERCHANT_CITY: u8 = 60;
pub(crate) const POSTAL_CODE: u8 = 61;
pub(crate) const ADDITIONAL_DATA: u8 = 62;
pub(crate) const CRC: u8 = 63;
pub(crate) const LANGUAGE_TEMPLATE: u8 = 64;

/// Inside the templates 26–51 and 80–99.
pub(crate) const GLOBALLY_UNIQUE_IDENTIFIER: u8 = 0;
/// Inside the template 64.
pub(crate) const LANGUAGE_PREFERENCE: u8 = 0;
pub(crate) const ALTERNATE_NAME: u8 = 1;
pub(crate) const ALTERNATE_CITY: u8 = 2;

/// Merchant account information: primitive (payment networks' own IDs) or a template.
pub(crate) fn is_merchant_account(number: u8) -> bool {
    (2..=51).contains(&number)
}

/// Whether the value of the top-level ID `number` is itself a run of data objects.
pub(crate) fn is_template(number: u8) -> bool {
    matches!(number, 26..=51 | ADDITIONAL_DATA | LANGUAGE_TEMPLATE | 80..=99)
}

/// Templates that must start with a globally unique identifier (subfield 00).
pub(crate) fn needs_identifier(number: u8) -> bool {
    matches!(number, 26..=51 | 80..=99)
}

/// Where a data object sits: at the top level, or inside a template.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FieldId {
    template: Option<Tag>,
    tag: Tag,
}

impl FieldId {
    #[must_use]
    pub fn new(template: Option<Tag>, tag: Tag) -> FieldId {
        FieldId { template, tag }
    }

    pub(crate) fn top(number: u8) -> FieldId {
        FieldId::new(None, Tag::known(number))
    }

    pub(crate) fn inside(template: u8, number: u8) -> FieldId {
        FieldId::new(Some(Tag::known(template)), Tag::known(number))
    }

    /// The template this field sits in, if any.
    #[must_use]
    pub fn template(self) -> Option<Tag> {
        self.template
    }

    #[must_use]
    pub fn tag(self) -> Tag {
        self.tag
    }

    /// What the field is, in Spanish, as a person would call it.
    #[must_use]
    pub fn name(self) -> &'static str {
        let number = self.tag.number();
        match self.template.map(Tag::number) {
            None => match number {
                PAYLOAD_FORMAT_INDICATOR => "indicador de formato",
                POINT_OF_INITIATION => "método de iniciación",
                2..=51 => "información de cuenta del comercio",
                CATEGORY_CODE => "código de categoría del comercio",
                CURRENCY => "moneda de la transacción",
                AMOUNT => "importe de la transacción",
                TIP_INDICATOR => "indicador de propina o cargo",
                FEE_FIXED => "cargo fijo",
                FEE_PERCENTAGE => "cargo porcentual",
                COUNTRY => "código de país",
                MERCHANT_NAME => "nombre del comercio",
                MERCHANT_CITY => "ciudad del comercio",
                POSTAL_CODE => "código postal",
                ADDITIONAL_DATA => "datos adicionales",
                CRC => "CRC",
                LANGUAGE_TEMPLATE => "datos del comercio en otro idioma",
                80..=99 => "plantilla no reservada",
                _ => "reservado para EMVCo",
            },
            Some(ADDITIONAL_DATA) => match number {
                1 => "número de factura",
                2 => "número de móvil",
                3 => "etiqueta de la tienda",
                4 => "número de fidelización",
                5 => "etiqueta de referencia",
                6 => "etiqueta del cliente",
                7 => "etiqueta del terminal",
                8 => "propósito de la transacción",
                9 => "datos que se piden al cliente",
                50..=99 => "plantilla del sistema de pago",
                _ => "reservado para EMVCo",
            },
            Some(LANGUAGE_TEMPLATE) => match number {
                LANGUAGE_PREFERENCE => "idioma",
                ALTERNATE_NAME => "nombre del comercio en otro idioma",
                ALTERNATE_CITY => "ciudad del comercio en otro idioma",
                _ => "reservado para EMVCo",
            },
            Some(_) => match number {
                GLOBALLY_UNIQUE_IDENTIFIER => "identificador único global",
                _ => "dato propio del sistema de pago",
            },
        }
    }
}

impl fmt::Display for FieldId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.template {
            None => write!(f, "{}", self.tag),
            Some(template) => write!(f, "{} de la plantilla {template}", self.tag),
        }
    }
}

/// What a value must look like, beyond its length.
#[derive(Debug, Clone, Copy)]
enum Format {
    /// Anything (the character set is the payment network's business).
    Any,
    /// Exactly this many ASCII digits.
    Digits(usize),
    /// Digits, then at most one "." and more digits: "12", "12.", "12.50".
    Decimal,
    /// Exactly this many ASCII letters, upper case only when `upper`.
    Letters { count: usize, upper: bool },
    /// Exactly this many hexadecimal digits (either case).
    Hex(usize),
    /// One of these texts.
    OneOf(&'static [&'static str]),
    /// Letters among A (address), M (mobile) and E (e-mail), each at most once.
    ConsumerData,
}

/// The rule of one field: its format, the longest value allowed, and what a person is told
/// when the format is not met.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Rule {
    format: Format,
    pub chars_max: usize,
    expected: &'static str,
}

const fn any(chars_max: usize) -> Rule {
    Rule {
        format: Format::Any,
        chars_max,
        expected: "",
    }
}

/// The rule for a primitive field; templates' own values are checked through their objects.
pub(crate) fn rule(field: FieldId) -> Rule {
    let number = field.tag.number();
    match field.template.map(Tag::number) {
        None => match number {
            PAYLOAD_FORMAT_INDICATOR => Rule {
                format: Format::OneOf(&["01"]),
                chars_max: 2,
                expected: "«01»",
            },
            POINT_OF_INITIATION => Rule {
                format: Format::OneOf(&["11", "12"]),
                chars_max: 2,
                expected: "«11» (estático) o «12» (dinámico)",
            },
            CATEGORY_CODE => Rule {
                format: Format::Digits(4),
                chars_max: 4,
                expected: "cuatro cifras (ISO 18245)",
            },
            CURRENCY => Rule {
                format: Format::Digits(3),
                chars_max: 3,
                expected: "tres cifras (código numérico ISO 4217, p. ej. 192)",
            },
            AMOUNT | FEE_FIXED => Rule {
                format: Format::Decimal,
                chars_max: 13,
                expected: "un importe como 12.50 (cifras y, si acaso, un punto y decimales)",
            },
            TIP_INDICATOR => Rule {
                format: Format::OneOf(&["01", "02", "03"]),
                chars_max: 2,
                expected: "«01», «02» o «03»",
            },
            FEE_PERCENTAGE => Rule {
                format: Format::Decimal,
                chars_max: 5,
                expected: "un porcentaje como 3.5 (cifras y, si acaso, un punto y decimales)",
            },
            COUNTRY => Rule {
                format: Format::Letters {
                    count: 2,
                    upper: true,
                },
                chars_max: 2,
                expected: "dos letras mayúsculas (ISO 3166-1, p. ej. CU)",
            },
            MERCHANT_NAME => any(25),
            MERCHANT_CITY => any(15),
            POSTAL_CODE => any(10),
            CRC => Rule {
                format: Format::Hex(4),
                chars_max: 4,
                expected: "cuatro cifras hexadecimales",
            },
            _ => any(99),
        },
        Some(ADDITIONAL_DATA) => match number {
            1..=8 => any(25),
            9 => Rule {
                format: Format::ConsumerData,
                chars_max: 3,
                expected: "las letras A, M o E, cada una una vez como mucho",
            },
            _ => any(99),
        },
        Some(LANGUAGE_TEMPLATE) => match number {
            LANGUAGE_PREFERENCE => Rule {
                format: Format::Letters {
                    count: 2,
                    upper: false,
                },
                chars_max: 2,
                expected: "dos letras (ISO 639-1, p. ej. es)",
            },
            ALTERNATE_NAME => any(25),
            ALTERNATE_CITY => any(15),
            _ => any(99),
        },
        Some(_) => match number {
            GLOBALLY_UNIQUE_IDENTIFIER => any(32),
            _ => any(99),
        },
    }
}

/// Why a value breaks its rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Problem {
    Malformed { expected: &'static str },
    TooLong { chars: usize, chars_max: usize },
}

impl Rule {
    pub(crate) fn check(self, value: &str) -> Result<(), Problem> {
        let well_formed = match self.format {
            Format::Any => true,
            Format::Digits(count) => {
                value.len() == count && value.bytes().all(|b| b.is_ascii_digit())
            }
            Format::Decimal => is_decimal(value),
            Format::Letters { count, upper } => {
                value.len() == count
                    && value.bytes().all(|b| {
                        if upper {
                            b.is_ascii_uppercase()
                        } else {
                            b.is_ascii_alphabetic()
                        }
                    })
            }
            Format::Hex(count) => {
                value.len() == count && value.bytes().all(|b| b.is_ascii_hexdigit())
            }
            Format::OneOf(allowed) => allowed.contains(&value),
            Format::ConsumerData => {
                let mut seen = [false; 3];
                value.chars().all(|c| match "AME".find(c) {
                    Some(index) => !std::mem::replace(&mut seen[index], true),
                    None => false,
                })
            }
        };
        if !well_formed {
            return Err(Problem::Malformed {
                expected: self.expected,
            });
        }
        let chars = value.chars().count();
        if chars > self.chars_max {
            return Err(Problem::TooLong {
                chars,
                chars_max: self.chars_max,
            });
        }
        Ok(())
    }
}

/// Digits, then at most one "." followed by digits or nothing (the specification lets the
/// point stand without decimals).
fn is_decimal(value: &str) -> bool {
    let (whole, decimals) = value.split_once('.').unwrap_or((value, ""));
    !whole.is_empty()
        && whole.bytes().all(|b| b.is_ascii_digit())
        && decimals.bytes().all(|b| b.is_ascii_digit())
}
