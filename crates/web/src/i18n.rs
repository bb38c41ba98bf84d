//! Languages: Spanish first, English second. A person's choice (the `lang` query parameter,
//! remembered in a cookie) wins over the browser's `Accept-Language`, which wins over Spanish.

/// A language Ceiba speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    #[default]
    Es,
    En,
}

pub const LANG_COOKIE: &str = "ceiba_lang";

impl Lang {
    pub fn parse(text: &str) -> Option<Lang> {
        let primary = text.trim().split(['-', '_']).next()?.to_ascii_lowercase();
        match primary.as_str() {
            "es" => Some(Lang::Es),
            "en" => Some(Lang::En),
            _ => None,
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Lang::Es => "es",
            Lang::En => "en",
        }
    }

    pub fn other(self) -> Lang {
        match self {
            Lang::Es => Lang::En,
            Lang::En => Lang::Es,
        }
    }

    pub fn texts(self) -> &'static Texts {
        match self {
            Lang::Es => &SPANISH,
            Lang::En => &ENGLISH,
        }
    }

    /// Chooses the language of a response.
    pub fn negotiate(
        query: Option<&str>,
        cookie: Option<&str>,
        accept_language: Option<&str>,
    ) -> Lang {
        query
            .and_then(Lang::parse)
            .or_else(|| cookie.and_then(Lang::parse))
            .or_else(|| accept_language.and_then(from_accept_language))
            .unwrap_or_default()
    }
}

/// The spoken language with the highest quality in an `Accept-Language` header (RFC 9110
/// §12.5.4); the earlier one wins a tie.
fn from_accept_language(header: &str) -> Option<Lang> {
    let mut best: Option<(Lang, u16)> = None;
    for item in header.split(',').take(32) {
        let mut parts = item.split(';');
        let Some(lang) = parts.next().and_then(Lang::parse) else {
            continue;
        };
        let quality = parts
            .find_map(|parameter| parameter.trim().strip_prefix("q="))
            .map_or(Some(1000), parse_quality);
        let Some(quality) = quality else { continue };
        if quality > 0 && best.is_none_or(|(_, best_quality)| quality > best_quality) {
            best = Some((lang, quality));
        }
    }
    best.map(|(lang, _)| lang)
}

/// A quality value in thousandths; `None` when it does not parse.
fn parse_quality(text: &str) -> Option<u16> {
    let value: f32 = text.trim().parse().ok()?;
    if !(0.0..=1.0).contains(&value) {
        return None;
    }
    // In range 0..=1000 by the check above.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    Some((value * 1000.0).round() as u16)
}

/// Everything a page says, in one language.
#[derive(Debug)]
pub struct Texts {
    pub site_title: &'static str,
    pub tagline: &'static str,
    pub services_heading: &'static str,
    pub pagos_title: &'static str,
    pub pagos_body: &'static str,
    pub salud_title: &'static str,
    pub salud_body: &'static str,
    pub enciclopedia_title: &'static str,
    pub enciclopedia_body: &'static str,
    pub offline_note: &'static str,
    /// The link that switches to the other language, written in that language.
    pub switch_label: &'static str,
    pub not_found_title: &'static str,
    pub error_title: &'static str,
    pub back_home: &'static str,
    pub request_id_label: &'static str,
    pub footer: &'static str,
}

pub static SPANISH: Texts = Texts {
    site_title: "Ceiba",
    tagline: "Servicios digitales públicos para todos, también con poca conexión.",
    services_heading: "Servicios",
    pagos_title: "Pagos",
    pagos_body: "Pagos móviles y comercio electrónico: transferencias entre personas, facturas \
        de electricidad, agua, gas y teléfono, impuestos, recargas y pagos con código QR. \
        Funciona desde el navegador, el teléfono inteligente o un teléfono básico por USSD.",
    salud_title: "Salud",
    salud_body: "Vigilancia epidemiológica: casos, pruebas de laboratorio, contactos y evolución \
        por provincia y municipio, tableros diarios y modelos matemáticos de la transmisión.",
    enciclopedia_title: "Enciclopedia",
    enciclopedia_body: "Una enciclopedia colaborativa que se edita en línea y se lleva sin \
        conexión en archivos ZIM.",
    offline_note: "Las páginas son ligeras y funcionan sin JavaScript.",
    switch_label: "English",
    not_found_title: "Página no encontrada",
    error_title: "No se pudo atender la petición",
    back_home: "Volver al inicio",
    request_id_label: "Identificador de la petición",
    footer: "Ceiba, plataforma abierta de servicios digitales públicos.",
};

pub static ENGLISH: Texts = Texts {
    site_title: "Ceiba",
    tagline: "Public digital services for everyone, even on a poor connection.",
    services_heading: "Services",
    pagos_title: "Payments",
    pagos_body: "Mobile payments and e-commerce: person-to-person transfers, electricity, water, \
        gas and phone bills, taxes, top-ups and QR code payments. Works from a browser, a \
        smartphone or a basic phone over USSD.",
    salud_title: "Health",
    salud_body: "Epidemic surveillance: cases, lab tests, contacts and outcomes by province and \
        municipality, daily dashboards and mathematical models of transmission.",
    enciclopedia_title: "Encyclopedia",
    enciclopedia_body: "A collaborative encyclopedia edited online and carried offline in ZIM \
        files.",
    offline_note: "Pages are light and work without JavaScript.",
    switch_label: "Español",
    not_found_title: "Page not found",
    error_title: "The request could not be served",
    back_home: "Back to the home page",
    request_id_label: "Request identifier",
    footer: "Ceiba, an open platform of public digital services.",
};

#[cfg(test)]
mod tests {
    use super::*;

    /// The `lang` parameter, the cookie, `Accept-Language`, and the language expected.
    type Case = (
        Option<&'static str>,
        Option<&'static str>,
        Option<&'static str>,
        Lang,
    );

    #[test]
    fn negotiation_prefers_choice_then_cookie_then_browser_then_spanish() {
        let cases: &[Case] = &[
            (None, None, None, Lang::Es),
            (None, None, Some("en-US,en;q=0.9"), Lang::En),
            (None, None, Some("fr-FR, en;q=0.5, es;q=0.8"), Lang::Es),
            (None, None, Some("de, fr"), Lang::Es),
            (None, None, Some("es;q=0, en;q=0.1"), Lang::En),
            (None, None, Some("en;q=abc, es"), Lang::Es),
            (None, Some("en"), Some("es"), Lang::En),
            (Some("es"), Some("en"), Some("en"), Lang::Es),
            (Some("xx"), Some("en"), None, Lang::En),
            (None, None, Some("EN_gb"), Lang::En),
        ];
        for (query, cookie, accept, expected) in cases {
            assert_eq!(
                Lang::negotiate(*query, *cookie, *accept),
                *expected,
                "query={query:?} cookie={cookie:?} accept={accept:?}"
            );
        }
    }
}
