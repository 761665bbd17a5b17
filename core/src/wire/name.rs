//! User names: the one identity every other message refers to.

use std::fmt;
use std::sync::Arc;

/// Most Unicode scalar values a name may hold.
pub const MAX_NAME_CHARS: usize = 32;
/// Most bytes a name may take in UTF-8, so a list entry stays small whatever the script.
pub const MAX_NAME_BYTES: usize = 64;

/// A user name that is known to be valid: 1–32 scalar values, at most 64 bytes, no `,` or `;`
/// (they separate fields), no control characters, no leading or trailing white space.
///
/// Cloning is cheap (shared), because a name is copied into every event and list that mentions it.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Name(Arc<str>);

/// Why a string is not a valid [`Name`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NameError {
    /// The name is empty.
    Empty,
    /// More than [`MAX_NAME_CHARS`] scalar values.
    TooManyChars,
    /// More than [`MAX_NAME_BYTES`] bytes.
    TooManyBytes,
    /// Contains `,` or `;`, which separate fields and entries.
    Separator,
    /// Contains a control character.
    Control,
    /// Starts or ends with white space.
    OuterWhiteSpace,
}

impl fmt::Display for NameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            NameError::Empty => "name is empty",
            NameError::TooManyChars => "name has more than 32 characters",
            NameError::TooManyBytes => "name has more than 64 bytes",
            NameError::Separator => "name contains ',' or ';'",
            NameError::Control => "name contains a control character",
            NameError::OuterWhiteSpace => "name starts or ends with white space",
        })
    }
}

impl std::error::Error for NameError {}

/// Checks `s` against the name rules without allocating.
pub fn validate_name(s: &str) -> Result<(), NameError> {
    if s.is_empty() {
        return Err(NameError::Empty);
    }
    if s.len() > MAX_NAME_BYTES {
        return Err(NameError::TooManyBytes);
    }
    if s.chars().count() > MAX_NAME_CHARS {
        return Err(NameError::TooManyChars);
    }
    if s.contains([',', ';']) {
        return Err(NameError::Separator);
    }
    if s.chars().any(char::is_control) {
        return Err(NameError::Control);
    }
    let starts = s.chars().next().is_some_and(char::is_whitespace);
    let ends = s.chars().next_back().is_some_and(char::is_whitespace);
    if starts || ends {
        return Err(NameError::OuterWhiteSpace);
    }
    Ok(())
}

impl Name {
    /// Validates and wraps `s`.
    pub fn new(s: &str) -> Result<Self, NameError> {
        validate_name(s)?;
        Ok(Name(Arc::from(s)))
    }

    /// The name as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<&str> for Name {
    type Error = NameError;
    fn try_from(s: &str) -> Result<Self, NameError> {
        Name::new(s)
    }
}

impl std::str::FromStr for Name {
    type Err = NameError;
    fn from_str(s: &str) -> Result<Self, NameError> {
        Name::new(s)
    }
}

impl std::ops::Deref for Name {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl std::borrow::Borrow<str> for Name {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for Name {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl PartialEq<str> for Name {
    fn eq(&self, other: &str) -> bool {
        &*self.0 == other
    }
}

impl PartialEq<&str> for Name {
    fn eq(&self, other: &&str) -> bool {
        &*self.0 == *other
    }
}

impl fmt::Display for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.0, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_ordinary_and_chinese_names() {
        for ok in ["alice", "飞鸽", "Bob Smith", "a", "李小龙 2"] {
            assert_eq!(Name::new(ok).unwrap().as_str(), ok);
        }
    }

    #[test]
    fn byte_limit_is_exact() {
        let four_byte = "😀".repeat(16);
        assert_eq!(four_byte.len(), 64);
        assert!(Name::new(&four_byte).is_ok());
        let over = format!("{}ab", "中".repeat(21));
        assert_eq!(over.len(), 65);
        assert_eq!(Name::new(&over), Err(NameError::TooManyBytes));
    }

    #[test]
    fn char_limit_is_exact() {
        assert!(Name::new(&"x".repeat(32)).is_ok());
        assert_eq!(Name::new(&"x".repeat(33)), Err(NameError::TooManyChars));
    }

    #[test]
    fn refuses_each_bad_shape() {
        assert_eq!(Name::new(""), Err(NameError::Empty));
        assert_eq!(Name::new("a,b"), Err(NameError::Separator));
        assert_eq!(Name::new("a;b"), Err(NameError::Separator));
        assert_eq!(Name::new("a\nb"), Err(NameError::Control));
        assert_eq!(Name::new("a\u{7f}"), Err(NameError::Control));
        assert_eq!(Name::new(" a"), Err(NameError::OuterWhiteSpace));
        assert_eq!(Name::new("a\u{3000}"), Err(NameError::OuterWhiteSpace));
    }
}
