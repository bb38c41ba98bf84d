//! Data objects: ID, length and value, and the split of a run of characters into them.

use std::fmt;
use std::ops::Range;

use crate::error::DecodeError;
use crate::fields::FieldId;

/// A data object's ID, "00" to "99".
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Tag(u8);

impl Tag {
    /// The ID `number`, or `None` past 99.
    #[must_use]
    pub const fn new(number: u8) -> Option<Tag> {
        if number <= 99 {
            Some(Tag(number))
        } else {
            None
        }
    }

    /// For IDs this crate names itself or has already checked; past 99 is a bug.
    pub(crate) const fn known(number: u8) -> Tag {
        assert!(number <= 99, "an EMV QR ID has two digits");
        Tag(number)
    }

    #[must_use]
    pub const fn number(self) -> u8 {
        self.0
    }
}

impl fmt::Display for Tag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02}", self.0)
    }
}

/// What a data object carries: text, or (for the templates) more data objects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    Primitive(String),
    Template(Vec<DataObject>),
}

/// One data object of a payload, kept in the order it came in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataObject {
    tag: Tag,
    value: Value,
}

impl DataObject {
    /// Only this crate makes data objects, so every one it hands out has a value of 1 to 99
    /// characters.
    pub(crate) fn primitive(tag: Tag, text: String) -> DataObject {
        DataObject {
            tag,
            value: Value::Primitive(text),
        }
    }

    pub(crate) fn template(tag: Tag, objects: Vec<DataObject>) -> DataObject {
        DataObject {
            tag,
            value: Value::Template(objects),
        }
    }

    #[must_use]
    pub fn tag(&self) -> Tag {
        self.tag
    }

    #[must_use]
    pub fn value(&self) -> &Value {
        &self.value
    }

    /// The text of a primitive data object; `None` for a template.
    #[must_use]
    pub fn text(&self) -> Option<&str> {
        match &self.value {
            Value::Primitive(text) => Some(text),
            Value::Template(_) => None,
        }
    }

    /// The data objects inside a template; empty for a primitive one.
    #[must_use]
    pub fn objects(&self) -> &[DataObject] {
        match &self.value {
            Value::Primitive(_) => &[],
            Value::Template(objects) => objects,
        }
    }

    /// The text of the data object `number` inside this template.
    #[must_use]
    pub fn field(&self, number: u8) -> Option<&str> {
        text_of(self.objects(), number)
    }

    pub(crate) fn encode_into(&self, out: &mut String) {
        match &self.value {
            Value::Primitive(text) => push_object(out, self.tag, text),
            Value::Template(objects) => {
                let mut inner = String::new();
                for object in objects {
                    object.encode_into(&mut inner);
                }
                push_object(out, self.tag, &inner);
            }
        }
    }

    /// How many characters the value takes once encoded.
    pub(crate) fn value_chars(&self) -> usize {
        match &self.value {
            Value::Primitive(text) => text.chars().count(),
            Value::Template(objects) => objects.iter().map(|o| 4 + o.value_chars()).sum(),
        }
    }
}

/// The text of the first data object `number` among `objects`.
pub(crate) fn text_of(objects: &[DataObject], number: u8) -> Option<&str> {
    objects
        .iter()
        .find(|object| object.tag.0 == number)
        .and_then(DataObject::text)
}

fn push_object(out: &mut String, tag: Tag, value: &str) {
    use fmt::Write as _;
    // Writing to a String cannot fail.
    let _ = write!(out, "{tag}{:02}{value}", value.chars().count());
}

/// One data object found in a run of characters: where its ID starts and where its value lies,
/// both as character offsets in the whole payload.
#[derive(Debug, Clone)]
pub(crate) struct Token {
    pub tag: Tag,
    pub at: usize,
    pub value: Range<usize>,
}

/// Splits `chars[run]` into data objects. `template` names the template the run is the value of
/// (for errors), `None` at the top level. Never panics: every index is checked.
pub(crate) fn split(
    chars: &[char],
    run: Range<usize>,
    template: Option<Tag>,
) -> Result<Vec<Token>, DecodeError> {
    let mut tokens = Vec::new();
    let mut at = run.start;
    while at < run.end {
        let rest = run.end - at;
        if rest < 2 {
            return Err(DecodeError::Truncated { template, at });
        }
        let Some(tag) = two_digits(chars, at).map(Tag) else {
            return Err(DecodeError::BadId {
                template,
                found: chars.get(at..at + 2).unwrap_or_default().iter().collect(),
                at,
            });
        };
        let field = FieldId::new(template, tag);
        if rest < 4 {
            return Err(DecodeError::Truncated { template, at });
        }
        let Some(length) = two_digits(chars, at + 2) else {
            return Err(DecodeError::BadLength { field, at: at + 2 });
        };
        let length = usize::from(length);
        if length == 0 {
            return Err(DecodeError::EmptyValue { field, at });
        }
        let start = at + 4;
        let remaining = run.end - start;
        if length > remaining {
            return Err(DecodeError::LengthPastEnd {
                field,
                declared: length,
                remaining,
                at,
            });
        }
        tokens.push(Token {
            tag,
            at,
            value: start..start + length,
        });
        at = start + length;
    }
    Ok(tokens)
}

/// The number written by the two ASCII digits at `chars[at..at + 2]`.
fn two_digits(chars: &[char], at: usize) -> Option<u8> {
    let tens = chars.get(at)?.to_digit(10)?;
    // `to_digit` takes only ASCII digits, so other scripts' digits are refused too.
    let ones = chars.get(at + 1)?.to_digit(10)?;
    u8::try_from(tens * 10 + ones).ok()
}
