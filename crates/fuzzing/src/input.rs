/// Typed values read off the fuzzer's bytes, front to back. Past the end it reads zeros and
/// empty slices, so that every input, however short, is a whole program for a target.
#[derive(Debug, Clone)]
pub struct Unstructured<'a> {
    data: &'a [u8],
}

impl<'a> Unstructured<'a> {
    #[must_use]
    pub fn new(data: &'a [u8]) -> Unstructured<'a> {
        Unstructured { data }
    }

    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    pub fn u8(&mut self) -> u8 {
        match self.data.split_first() {
            Some((first, rest)) => {
                self.data = rest;
                *first
            }
            None => 0,
        }
    }

    pub fn u16(&mut self) -> u16 {
        u16::from_le_bytes([self.u8(), self.u8()])
    }

    pub fn u64(&mut self) -> u64 {
        u64::from_le_bytes(std::array::from_fn(|_| self.u8()))
    }

    pub fn bool(&mut self) -> bool {
        self.u8() & 1 == 1
    }

    /// A number in `0..bound` (`0` when `bound` is 0).
    pub fn below(&mut self, bound: usize) -> usize {
        if bound == 0 {
            0
        } else {
            usize::from(self.u16()) % bound
        }
    }

    /// Up to `len` bytes.
    pub fn bytes(&mut self, len: usize) -> &'a [u8] {
        let (taken, rest) = self.data.split_at(len.min(self.data.len()));
        self.data = rest;
        taken
    }

    /// A byte string whose length is the next byte.
    pub fn short_bytes(&mut self) -> &'a [u8] {
        let len = usize::from(self.u8());
        self.bytes(len)
    }

    pub fn array<const N: usize>(&mut self) -> [u8; N] {
        std::array::from_fn(|_| self.u8())
    }

    /// Whatever is left.
    pub fn rest(&mut self) -> &'a [u8] {
        std::mem::take(&mut self.data)
    }
}

/// Byte edits read off `edits`: overwrite, remove or insert at a position, applied to `bytes`.
/// At most `count_max` edits, so a long input cannot make a file into noise.
pub(crate) fn mutate(bytes: &mut Vec<u8>, edits: &mut Unstructured<'_>, count_max: usize) {
    let count = edits.below(count_max + 1);
    for _ in 0..count {
        if edits.is_empty() {
            break;
        }
        let kind = edits.u8() % 3;
        let at = edits.u64();
        let value = edits.u8();
        if bytes.is_empty() {
            bytes.push(value);
            continue;
        }
        let at = usize::try_from(at % (bytes.len() as u64)).unwrap_or(0);
        match kind {
            0 => bytes[at] = value,
            1 => {
                bytes.remove(at);
            }
            _ => bytes.insert(at, value),
        }
    }
}
