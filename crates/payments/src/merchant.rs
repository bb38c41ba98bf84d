//! What a business types when it asks to take payments: its name, its tax id (NIT), its
//! category (ISO 18245 merchant category code) and its city. Parsed once here, so storage and
//! the QR codes only ever see values that fit them.

use std::fmt;

/// Longest business name kept (a QR code carries at most 25 characters of it).
pub const BUSINESS_NAME_CHARS_MAX: usize = 60;
/// Longest city kept (a QR code carries at most 15 characters of it).
pub const CITY_CHARS_MAX: usize = 40;
/// Digits of a Cuban tax identification number (Número de Identificación Tributaria).
pub const NIT_DIGITS: usize = 11;

/// Why something a business typed was refused; `Display` is a Spanish sentence.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MerchantError {
    #[error(
        "el nombre del negocio debe tener de 1 a {BUSINESS_NAME_CHARS_MAX} caracteres, sin saltos de línea"
    )]
    BusinessName,
    #[error("el NIT debe tener {NIT_DIGITS} dígitos")]
    Nit,
    #[error("la categoría debe ser un código MCC de 4 dígitos (ISO 18245), por ejemplo 5411")]
    Category,
    #[error("la ciudad debe tener de 1 a {CITY_CHARS_MAX} caracteres, sin saltos de línea")]
    City,
}

fn text(typed: &str, chars_max: usize) -> Option<String> {
    let text = typed.split_whitespace().collect::<Vec<_>>().join(" ");
    let chars = text.chars().count();
    (chars > 0 && chars <= chars_max && !text.chars().any(char::is_control)).then_some(text)
}

/// A business's name as people will see it, spaces tidied.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct BusinessName(String);

impl BusinessName {
    pub fn parse(typed: &str) -> Result<BusinessName, MerchantError> {
        text(typed, BUSINESS_NAME_CHARS_MAX)
            .map(BusinessName)
            .ok_or(MerchantError::BusinessName)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A city, spaces tidied.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct City(String);

impl City {
    pub fn parse(typed: &str) -> Result<City, MerchantError> {
        text(typed, CITY_CHARS_MAX)
            .map(City)
            .ok_or(MerchantError::City)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A Cuban tax identification number: eleven digits (spaces and dashes typed between them are
/// dropped).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Nit(String);

impl Nit {
    pub fn parse(typed: &str) -> Result<Nit, MerchantError> {
        let digits: String = typed.chars().filter(|c| !matches!(c, ' ' | '-')).collect();
        if digits.len() == NIT_DIGITS && digits.bytes().all(|b| b.is_ascii_digit()) {
            Ok(Nit(digits))
        } else {
            Err(MerchantError::Nit)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An ISO 18245 merchant category code: four digits. `0000` is not a category.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CategoryCode(u16);

/// Categories a Cuban business commonly has, with their Spanish names, for forms and pages.
/// Any other four-digit code is accepted too (the standard's list is long and grows).
pub const COMMON_CATEGORIES: &[(u16, &str)] = &[
    (4121, "Taxis"),
    (5251, "Ferreterías"),
    (5311, "Tiendas por departamentos"),
    (5411, "Mercados y tiendas de víveres"),
    (5462, "Panaderías"),
    (5499, "Alimentos variados"),
    (5621, "Ropa de mujer"),
    (5651, "Ropa de familia"),
    (5732, "Electrónica"),
    (5812, "Restaurantes"),
    (5814, "Comida rápida y cafeterías"),
    (5912, "Farmacias"),
    (5942, "Librerías"),
    (5999, "Comercio minorista variado"),
    (7011, "Hoteles y hostales"),
    (7230, "Peluquerías y barberías"),
    (7299, "Servicios personales"),
    (7538, "Talleres de autos"),
    (8062, "Hospitales"),
    (8299, "Escuelas y academias"),
];

impl CategoryCode {
    pub fn parse(typed: &str) -> Result<CategoryCode, MerchantError> {
        let typed = typed.trim();
        if typed.len() != 4 || !typed.bytes().all(|b| b.is_ascii_digit()) {
            return Err(MerchantError::Category);
        }
        match typed.parse::<u16>() {
            Ok(code) if code > 0 => Ok(CategoryCode(code)),
            _ => Err(MerchantError::Category),
        }
    }

    pub fn get(self) -> u16 {
        self.0
    }

    /// Its Spanish name when it is one of [`COMMON_CATEGORIES`].
    pub fn name_es(self) -> Option<&'static str> {
        COMMON_CATEGORIES
            .iter()
            .find(|(code, _)| *code == self.0)
            .map(|(_, name)| *name)
    }
}

/// Four digits, zeros kept: `0742`.
impl fmt::Display for CategoryCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}", self.0)
    }
}
