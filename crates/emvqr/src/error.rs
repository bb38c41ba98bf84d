//! Why a payload was refused, or could not be built or drawn: one sentence in Spanish each.
//!
//! Positions (`at`) are character offsets from 0 in the whole payload; the messages count from
//! 1, as a person does.

use crate::fields::FieldId;
use crate::tlv::Tag;

/// Why a payload does not decode.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeError {
    #[error("el código no es texto UTF-8 válido (byte {})", .byte + 1)]
    NotUtf8 { byte: usize },
    #[error("el código está vacío")]
    Empty,
    #[error("el código tiene más de {chars_max} caracteres, el máximo de la especificación")]
    TooLong { chars_max: usize },
    #[error(
        "el código se corta a mitad de un campo{} (carácter {})",
        in_template(.template),
        .at + 1
    )]
    Truncated { template: Option<Tag>, at: usize },
    #[error(
        "el identificador «{found}»{} no es un número de dos cifras (carácter {})",
        in_template(.template),
        .at + 1
    )]
    BadId {
        template: Option<Tag>,
        found: String,
        at: usize,
    },
    #[error("la longitud del campo {field} no es un número de dos cifras (carácter {})", .at + 1)]
    BadLength { field: FieldId, at: usize },
    #[error(
        "el campo {field} tiene longitud 00, y un campo presente no puede estar vacío \
         (carácter {})",
        .at + 1
    )]
    EmptyValue { field: FieldId, at: usize },
    #[error(
        "el campo {field} dice medir {declared} caracteres, pero solo quedan {remaining} \
         (carácter {})",
        .at + 1
    )]
    LengthPastEnd {
        field: FieldId,
        declared: usize,
        remaining: usize,
        at: usize,
    },
    #[error(
        "el código debe empezar por el campo 00 (indicador de formato) y empieza por el {found}"
    )]
    FormatIndicatorNotFirst { found: Tag },
    #[error("el campo 63 (CRC) debe ser el último, y le sigue el {next}")]
    CrcNotLast { next: Tag },
    #[error("el CRC no coincide: se esperaba {expected} y el código trae {found}")]
    CrcMismatch { expected: String, found: String },
    #[error("el campo {field} aparece más de una vez (carácter {})", .at + 1)]
    DuplicateId { field: FieldId, at: usize },
    #[error("falta el campo obligatorio {field} ({})", .field.name())]
    MissingField { field: FieldId },
    #[error("falta la información de cuenta del comercio: ningún campo del 02 al 51")]
    MissingMerchantAccount,
    #[error("el campo {field} ({}) debe llevar {expected}, no «{found}»", .field.name())]
    Malformed {
        field: FieldId,
        expected: &'static str,
        found: String,
    },
    #[error(
        "el campo {field} ({}) tiene {chars} caracteres, y el máximo es {chars_max}",
        .field.name()
    )]
    ValueTooLong {
        field: FieldId,
        chars: usize,
        chars_max: usize,
    },
    #[error(
        "el campo 55 (indicador de propina o cargo) vale «{indicator}», pero falta el campo \
         {field} ({})",
        .field.name()
    )]
    FeeMissing { indicator: String, field: FieldId },
}

/// Why a merchant's fields do not make a payload.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    #[error("el campo {field} ({}) está vacío", .field.name())]
    Empty { field: FieldId },
    #[error("el campo {field} ({}) contiene caracteres de control", .field.name())]
    ControlCharacter { field: FieldId },
    #[error("el campo {field} ({}) debe llevar {expected}, no «{found}»", .field.name())]
    Malformed {
        field: FieldId,
        expected: &'static str,
        found: String,
    },
    #[error(
        "el campo {field} ({}) tiene {chars} caracteres, y el máximo es {chars_max}",
        .field.name()
    )]
    ValueTooLong {
        field: FieldId,
        chars: usize,
        chars_max: usize,
    },
    #[error("hace falta al menos una cuenta del comercio (plantillas 26 a 51)")]
    NoMerchantAccount,
    #[error("las cuentas del comercio van en las plantillas 26 a 51, no en el campo {number}")]
    AccountOutOfRange { number: u8 },
    #[error("los campos de la plantilla {template} van del 01 al 99, no del {number}")]
    SubfieldOutOfRange { template: Tag, number: u8 },
    #[error("el campo {field} aparece más de una vez")]
    Duplicate { field: FieldId },
    #[error(
        "la plantilla {field} ({}) ocuparía {chars} caracteres, y el máximo es 99",
        .field.name()
    )]
    TemplateTooLong { field: FieldId, chars: usize },
    #[error("el código ocuparía {chars} caracteres, y el máximo es {chars_max}")]
    PayloadTooLong { chars: usize, chars_max: usize },
}

/// Why a payload could not be drawn.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RenderError {
    #[error("el código no cabe en un símbolo QR con corrección de errores M")]
    DoesNotFit,
    #[error("no se pudo codificar la imagen PNG: {reason}")]
    Png { reason: String },
}

fn in_template(template: &Option<Tag>) -> String {
    template
        .map(|tag| format!(" de la plantilla {tag}"))
        .unwrap_or_default()
}
