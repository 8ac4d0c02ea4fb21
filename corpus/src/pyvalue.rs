//! A JSON value as Python's `json.loads` sees it, so that anything Python wrote comes back out of
//! `pyjson` unchanged: integers of any size (kept as text), floats including `NaN` / `Infinity`,
//! duplicate keys resolved as in a dict (last value, first position).

use super::pyjson::{float_repr, write_str};

#[derive(Clone, Debug, PartialEq)]
pub enum PyValue {
    Null,
    Bool(bool),
    /// Decimal digits with an optional `-`, as Python's `str(int)` writes them.
    Int(String),
    Float(f64),
    Str(String),
    List(Vec<PyValue>),
    Dict(Vec<(String, PyValue)>),
}

impl PyValue {
    pub fn get(&self, key: &str) -> Option<&PyValue> {
        match self {
            PyValue::Dict(d) => d.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }
    pub fn as_str(&self) -> Option<&str> {
        match self {
            PyValue::Str(s) => Some(s),
            _ => None,
        }
    }
    pub fn as_u64(&self) -> Option<u64> {
        match self {
            PyValue::Int(s) => s.parse().ok(),
            _ => None,
        }
    }
    pub fn as_list(&self) -> Option<&[PyValue]> {
        match self {
            PyValue::List(l) => Some(l),
            _ => None,
        }
    }
    pub fn as_dict(&self) -> Option<&[(String, PyValue)]> {
        match self {
            PyValue::Dict(d) => Some(d),
            _ => None,
        }
    }

    /// `json.dumps(self, ensure_ascii=False)`.
    pub fn write(&self, out: &mut String) {
        match self {
            PyValue::Null => out.push_str("null"),
            PyValue::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            PyValue::Int(s) => out.push_str(s),
            PyValue::Float(x) => out.push_str(&float_repr(*x)),
            PyValue::Str(s) => write_str(out, s),
            PyValue::List(l) => {
                out.push('[');
                for (i, x) in l.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    x.write(out);
                }
                out.push(']');
            }
            PyValue::Dict(d) => {
                out.push('{');
                for (i, (k, x)) in d.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    write_str(out, k);
                    out.push_str(": ");
                    x.write(out);
                }
                out.push('}');
            }
        }
    }

    pub fn to_json(&self) -> String {
        let mut s = String::new();
        self.write(&mut s);
        s
    }
}

/// Parses JSON text as `json.loads` does (NaN, Infinity, -Infinity accepted). Errors give the
/// character column.
pub fn parse(text: &str) -> Result<PyValue, String> {
    let mut p = Parser {
        s: text.as_bytes(),
        text,
        i: 0,
        depth: 0,
    };
    p.ws();
    let v = p.value()?;
    p.ws();
    if p.i < p.s.len() {
        return Err(p.err("extra data after the JSON value"));
    }
    Ok(v)
}

struct Parser<'a> {
    s: &'a [u8],
    text: &'a str,
    i: usize,
    depth: usize,
}

impl Parser<'_> {
    fn err(&self, msg: &str) -> String {
        let col = self
            .text
            .get(..self.i)
            .map_or(self.i, |t| t.chars().count())
            + 1;
        format!("{msg} at column {col}")
    }

    fn ws(&mut self) {
        while matches!(self.s.get(self.i), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.i += 1;
        }
    }

    fn eat(&mut self, lit: &str) -> bool {
        if self.s[self.i..].starts_with(lit.as_bytes()) {
            self.i += lit.len();
            true
        } else {
            false
        }
    }

    fn value(&mut self) -> Result<PyValue, String> {
        // Python's recursion limit would stop far deeper input; this keeps our stack safe
        if self.depth > 512 {
            return Err(self.err("JSON nested too deeply"));
        }
        match self.s.get(self.i) {
            None => Err(self.err("unexpected end of data (expecting a value)")),
            Some(b'{') => self.dict(),
            Some(b'[') => self.list(),
            Some(b'"') => Ok(PyValue::Str(self.string()?)),
            Some(b'n') if self.eat("null") => Ok(PyValue::Null),
            Some(b't') if self.eat("true") => Ok(PyValue::Bool(true)),
            Some(b'f') if self.eat("false") => Ok(PyValue::Bool(false)),
            Some(b'N') if self.eat("NaN") => Ok(PyValue::Float(f64::NAN)),
            Some(b'I') if self.eat("Infinity") => Ok(PyValue::Float(f64::INFINITY)),
            Some(b'-') if self.eat("-Infinity") => Ok(PyValue::Float(f64::NEG_INFINITY)),
            Some(b'-' | b'0'..=b'9') => self.number(),
            Some(_) => Err(self.err("expecting a value")),
        }
    }

    fn digits(&mut self) -> usize {
        let start = self.i;
        while matches!(self.s.get(self.i), Some(b'0'..=b'9')) {
            self.i += 1;
        }
        self.i - start
    }

    /// `-?(0|[1-9]\d*)(\.\d+)?([eE][-+]?\d+)?`: an int unless it has a fraction or exponent.
    fn number(&mut self) -> Result<PyValue, String> {
        let start = self.i;
        let neg = self.eat("-");
        let int_start = self.i;
        let n = self.digits();
        if n == 0 {
            return Err(self.err("expecting a value"));
        }
        if n > 1 && self.s[int_start] == b'0' {
            // Python parses "01" as 0 followed by extra data
            self.i = int_start + 1;
            return Err(self.err("extra data after the JSON value"));
        }
        let mut float = false;
        if self.s.get(self.i) == Some(&b'.') && matches!(self.s.get(self.i + 1), Some(b'0'..=b'9'))
        {
            self.i += 1;
            self.digits();
            float = true;
        }
        if matches!(self.s.get(self.i), Some(b'e' | b'E')) {
            let save = self.i;
            self.i += 1;
            if matches!(self.s.get(self.i), Some(b'+' | b'-')) {
                self.i += 1;
            }
            if self.digits() == 0 {
                self.i = save; // not an exponent: Python stops before it
            } else {
                float = true;
            }
        }
        let text = &self.text[start..self.i];
        if float {
            text.parse::<f64>()
                .map(PyValue::Float)
                .map_err(|_| self.err("invalid number"))
        } else if neg && text[1..].bytes().all(|b| b == b'0') {
            Ok(PyValue::Int("0".into())) // str(int("-0")) == "0"
        } else {
            Ok(PyValue::Int(text.to_string()))
        }
    }

    fn string(&mut self) -> Result<String, String> {
        self.i += 1; // opening quote
        let mut out = String::new();
        loop {
            let start = self.i;
            while let Some(&b) = self.s.get(self.i) {
                if b == b'"' || b == b'\\' || b < 0x20 {
                    break;
                }
                self.i += 1;
            }
            out.push_str(&self.text[start..self.i]);
            match self.s.get(self.i) {
                None => return Err(self.err("unterminated string")),
                Some(b'"') => {
                    self.i += 1;
                    return Ok(out);
                }
                Some(b'\\') => {
                    self.i += 1;
                    let c = match self.s.get(self.i) {
                        Some(b'"') => '"',
                        Some(b'\\') => '\\',
                        Some(b'/') => '/',
                        Some(b'b') => '\u{8}',
                        Some(b'f') => '\u{c}',
                        Some(b'n') => '\n',
                        Some(b'r') => '\r',
                        Some(b't') => '\t',
                        Some(b'u') => {
                            self.i += 1;
                            let hi = self.hex4()?;
                            let code = if (0xd800..0xdc00).contains(&hi) && self.eat("\\u") {
                                let lo = self.hex4()?;
                                if !(0xdc00..0xe000).contains(&lo) {
                                    return Err(self.err("lone surrogate in \\u escape"));
                                }
                                0x10000 + ((hi - 0xd800) << 10) + (lo - 0xdc00)
                            } else {
                                hi
                            };
                            out.push(char::from_u32(code).ok_or_else(|| {
                                self.err("lone surrogate in \\u escape (not encodable as UTF-8)")
                            })?);
                            continue;
                        }
                        _ => return Err(self.err("invalid \\escape")),
                    };
                    out.push(c);
                    self.i += 1;
                }
                Some(_) => return Err(self.err("invalid control character in string")),
            }
        }
    }

    fn hex4(&mut self) -> Result<u32, String> {
        let h = self
            .text
            .get(self.i..self.i + 4)
            .filter(|h| h.bytes().all(|b| b.is_ascii_hexdigit()))
            .ok_or_else(|| self.err("invalid \\uXXXX escape"))?;
        self.i += 4;
        u32::from_str_radix(h, 16).map_err(|_| self.err("invalid \\uXXXX escape"))
    }

    fn list(&mut self) -> Result<PyValue, String> {
        self.i += 1;
        self.depth += 1;
        let mut items = Vec::new();
        self.ws();
        if self.eat("]") {
            self.depth -= 1;
            return Ok(PyValue::List(items));
        }
        loop {
            self.ws();
            items.push(self.value()?);
            self.ws();
            if self.eat(",") {
                continue;
            }
            if self.eat("]") {
                self.depth -= 1;
                return Ok(PyValue::List(items));
            }
            return Err(self.err("expecting ',' delimiter"));
        }
    }

    fn dict(&mut self) -> Result<PyValue, String> {
        self.i += 1;
        self.depth += 1;
        let mut items: Vec<(String, PyValue)> = Vec::new();
        self.ws();
        if self.eat("}") {
            self.depth -= 1;
            return Ok(PyValue::Dict(items));
        }
        loop {
            self.ws();
            if self.s.get(self.i) != Some(&b'"') {
                return Err(self.err("expecting property name enclosed in double quotes"));
            }
            let k = self.string()?;
            self.ws();
            if !self.eat(":") {
                return Err(self.err("expecting ':' delimiter"));
            }
            self.ws();
            let v = self.value()?;
            match items.iter_mut().find(|(x, _)| *x == k) {
                Some(slot) => slot.1 = v,
                None => items.push((k, v)),
            }
            self.ws();
            if self.eat(",") {
                continue;
            }
            if self.eat("}") {
                self.depth -= 1;
                return Ok(PyValue::Dict(items));
            }
            return Err(self.err("expecting ',' delimiter"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rt(s: &str) -> String {
        parse(s).expect(s).to_json()
    }

    #[test]
    fn python_values_come_back() {
        assert_eq!(
            rt(r#"{"a":NaN,"b":[Infinity,-Infinity]}"#),
            r#"{"a": NaN, "b": [Infinity, -Infinity]}"#
        );
        assert_eq!(
            rt("123456789012345678901234567890"),
            "123456789012345678901234567890"
        );
        assert_eq!(rt("-0"), "0");
        assert_eq!(rt("-0.0"), "-0.0");
        assert_eq!(rt("1E400"), "Infinity");
        assert_eq!(rt(r#"{"k": 1, "j": 2, "k": 3}"#), r#"{"k": 3, "j": 2}"#);
        assert_eq!(rt(r#""\u00e9\ud83e\udd12\/""#), "\"é🤒/\"");
        assert_eq!(rt(" [ ] "), "[]");
    }

    #[test]
    fn bad_json_is_an_error() {
        for s in [
            "",
            "{",
            "[1,]",
            "01",
            "\"a",
            "\"\u{1}\"",
            r#""\ud800""#,
            "1 2",
            "{'a': 1}",
            "[1.]",
            "nul",
            "-",
        ] {
            assert!(parse(s).is_err(), "{s:?}");
        }
        assert!(parse(&"[".repeat(100_000)).is_err());
    }
}
