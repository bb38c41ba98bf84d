//! Screens as a handset shows them: at most [`SCREEN_CHARS_MAX`] characters, in Spanish, or in
//! plain ASCII for handsets and gateways that cannot show accents.

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

/// The most characters one USSD screen shows (GSM 03.90: 182 characters of the 7-bit alphabet).
/// Every screen this crate renders fits, in both its Spanish and its ASCII form.
pub const SCREEN_CHARS_MAX: usize = 182;

/// Whether the session goes on after this screen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ScreenKind {
    /// The handset shows the screen and an input box: `CON …` on the wire.
    Continue,
    /// The handset shows the screen and the session ends: `END …` on the wire.
    End,
}

/// One screen: what the person reads, and whether they may answer.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Screen {
    kind: ScreenKind,
    text: String,
}

impl Screen {
    /// A screen from rendered text. Callers in this crate build text that fits with [`fit`];
    /// text that would not fit is cut, so that no screen is ever longer than the limit.
    pub(crate) fn new(kind: ScreenKind, text: String) -> Screen {
        let text = if fits(&text) { text } else { fit(&text, "") };
        debug_assert!(fits(&text), "a screen over the limit: {text:?}");
        Screen { kind, text }
    }

    pub(crate) fn con(text: impl Into<String>) -> Screen {
        Screen::new(ScreenKind::Continue, text.into())
    }

    pub(crate) fn end(text: impl Into<String>) -> Screen {
        Screen::new(ScreenKind::End, text.into())
    }

    pub fn kind(&self) -> ScreenKind {
        self.kind
    }

    pub fn is_end(&self) -> bool {
        self.kind == ScreenKind::End
    }

    /// The Spanish text, accents and all.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The text in plain ASCII: accents stripped (`Últimas` → `Ultimas`), `¿` and `¡` dropped.
    pub fn ascii_text(&self) -> String {
        to_ascii(&self.text)
    }

    /// The answer body of the common gateway convention: `CON ` or `END ` and the text, in
    /// Spanish or, with `ascii`, in plain ASCII.
    pub fn wire(&self, ascii: bool) -> String {
        let prefix = match self.kind {
            ScreenKind::Continue => "CON ",
            ScreenKind::End => "END ",
        };
        if ascii {
            format!("{prefix}{}", self.ascii_text())
        } else {
            format!("{prefix}{}", self.text)
        }
    }
}

/// Plain ASCII for `text`: letters lose their accents (by canonical decomposition, so `ñ` → `n`
/// and `Ü` → `U`), Spanish opening marks go, typographic quotes and dashes become their ASCII
/// forms, and anything else outside ASCII becomes `?`. Control characters other than a line
/// break become a space.
pub fn to_ascii(text: &str) -> String {
    let mut ascii = String::with_capacity(text.len());
    for character in text.nfd() {
        match character {
            '\n' => ascii.push('\n'),
            c if c.is_ascii_control() => ascii.push(' '),
            c if c.is_ascii() => ascii.push(c),
            c if is_combining_mark(c) => {}
            '¿' | '¡' => {}
            '«' | '»' | '“' | '”' => ascii.push('"'),
            '‘' | '’' => ascii.push('\''),
            '–' | '—' => ascii.push('-'),
            '…' => ascii.push_str("..."),
            'º' | '°' => ascii.push('o'),
            'ª' => ascii.push('a'),
            c if c.is_whitespace() || c.is_control() => ascii.push(' '),
            _ => ascii.push('?'),
        }
    }
    ascii
}

/// Whether `text` fits one screen in Spanish and in ASCII.
pub fn fits(text: &str) -> bool {
    text.chars().count() <= SCREEN_CHARS_MAX && to_ascii(text).chars().count() <= SCREEN_CHARS_MAX
}

/// `head` followed by `tail`, cutting the end of `head` (marked `...`) until both fit one
/// screen. The tail is what the person must see whole: the options and the prompt.
pub(crate) fn fit(head: &str, tail: &str) -> String {
    let whole = format!("{head}{tail}");
    if fits(&whole) {
        return whole;
    }
    let mut kept: Vec<char> = head.chars().collect();
    // Cut first to a length that may fit, then one character at a time (the ASCII form may be
    // longer than the Spanish one when the head holds a `…`).
    let budget = SCREEN_CHARS_MAX.saturating_sub(tail.chars().count() + 3);
    kept.truncate(budget);
    loop {
        let cut: String = kept.iter().collect();
        let candidate = format!("{}...{tail}", cut.trim_end());
        if fits(&candidate) {
            return candidate;
        }
        if kept.pop().is_none() {
            // The tail alone is too long: only a bug in this crate gets here.
            return tail.chars().take(SCREEN_CHARS_MAX / 2).collect();
        }
    }
}

/// `text` on one line and at most `chars_max` characters (cut with `...`): names and reasons
/// that come from outside go through here before they are placed on a screen.
pub(crate) fn clip(text: &str, chars_max: usize) -> String {
    let line: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let line = line.trim();
    if line.chars().count() <= chars_max {
        return line.to_owned();
    }
    let kept: String = line.chars().take(chars_max.saturating_sub(3)).collect();
    format!("{}...", kept.trim_end())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ascii_strips_accents_and_marks() {
        let cases = [
            ("Últimas operaciones", "Ultimas operaciones"),
            ("¿Enviar a José Muñoz?", "Enviar a Jose Munoz?"),
            ("¡Listo! Pingüino", "Listo! Pinguino"),
            ("«Cañón» — 1…2", "\"Canon\" - 1...2"),
            ("línea\nsegunda\tfin", "linea\nsegunda fin"),
            ("Zoë 北京 🙂", "Zoe ?? ?"),
        ];
        for (spanish, ascii) in cases {
            assert_eq!(to_ascii(spanish), ascii, "{spanish}");
            assert!(to_ascii(spanish).is_ascii());
        }
    }

    #[test]
    fn fit_keeps_the_tail_whole_and_cuts_the_head() {
        let tail = "\n1 Confirmar\n0 Atrás";
        let head = "Ñ".repeat(400);
        let fitted = fit(&head, tail);
        assert!(fits(&fitted), "{}", fitted.chars().count());
        assert!(fitted.ends_with(&format!("...{tail}")));
        assert_eq!(fitted.chars().count(), SCREEN_CHARS_MAX);
        // A head of ellipses is longer in ASCII; the cut accounts for it.
        let fitted = fit(&"…".repeat(200), tail);
        assert!(fits(&fitted));
        assert_eq!(fit("corto", tail), format!("corto{tail}"));
    }

    #[test]
    fn clip_makes_one_short_line() {
        assert_eq!(clip("  Ana\nPérez ", 20), "Ana Pérez");
        assert_eq!(clip("Ana María Pérez Rodríguez", 12), "Ana María...");
        assert_eq!(clip("abc", 3), "abc");
    }

    #[test]
    fn a_screen_never_passes_the_limit() {
        let screen = Screen::end("x".repeat(500));
        assert!(screen.text().chars().count() <= SCREEN_CHARS_MAX);
        assert_eq!(Screen::con("Hola").wire(false), "CON Hola");
        assert_eq!(Screen::end("Adiós").wire(true), "END Adios");
    }
}
