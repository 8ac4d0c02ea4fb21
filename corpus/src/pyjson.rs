//! JSON text exactly as Python's `json.dumps(obj, ensure_ascii=False)` writes it (what medkit's
//! `save_text_documents` uses): separators `", "` / `": "`, non-ASCII kept as UTF-8, control
//! characters escaped, floats in Python's `repr`.

use serde_json::Value;

/// Appends `s` as a JSON string literal, escaped as Python's `encode_basestring`.
pub fn write_str(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{08}' => out.push_str("\\b"),
            '\u{0c}' => out.push_str("\\f"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Python's `repr(float)`: shortest round-trip digits; scientific notation when the decimal
/// exponent is < -4 or >= 16, with a signed two-digit-minimum exponent.
pub fn float_repr(x: f64) -> String {
    if x.is_nan() {
        return "NaN".into();
    }
    if x.is_infinite() {
        return if x > 0.0 { "Infinity" } else { "-Infinity" }.into();
    }
    // Rust's `{:e}` gives the shortest round-trip digit count, but where several strings of that
    // length round-trip it may not pick the nearest one, which Python does: re-format correctly
    // rounded to that many digits (the nearest, hence also round-tripping).
    let shortest = format!("{:e}", x.abs());
    let n_digits = shortest
        .split('e')
        .next()
        .map_or(1, |m| m.chars().filter(char::is_ascii_digit).count());
    let sci = format!("{:.*e}", n_digits.saturating_sub(1), x.abs());
    let (mant, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let mut digits: String = mant.chars().filter(|c| *c != '.').collect();
    while digits.len() > 1 && digits.ends_with('0') {
        digits.pop();
    }
    let sign = if x.is_sign_negative() { "-" } else { "" };
    let decpt = exp + 1; // position of the decimal point relative to the first digit
    let n = digits.len() as i32;
    let body = if (-3..=16).contains(&decpt) {
        if decpt <= 0 {
            format!("0.{}{}", "0".repeat((-decpt) as usize), digits)
        } else if decpt >= n {
            format!("{}{}.0", digits, "0".repeat((decpt - n) as usize))
        } else {
            format!(
                "{}.{}",
                &digits[..decpt as usize],
                &digits[decpt as usize..]
            )
        }
    } else {
        let m = if n > 1 {
            format!("{}.{}", &digits[..1], &digits[1..])
        } else {
            digits.clone()
        };
        let es = if exp < 0 { '-' } else { '+' };
        format!("{m}e{es}{:02}", exp.abs())
    };
    format!("{sign}{body}")
}

/// Appends `v` in Python's style. Integers stay integers, floats get Python's repr.
pub fn write_value(out: &mut String, v: &Value) {
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => {
            if n.is_f64() {
                out.push_str(&float_repr(n.as_f64().unwrap_or(f64::NAN)));
            } else {
                out.push_str(&n.to_string());
            }
        }
        Value::String(s) => write_str(out, s),
        Value::Array(a) => {
            out.push('[');
            for (i, x) in a.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_value(out, x);
            }
            out.push(']');
        }
        Value::Object(o) => {
            out.push('{');
            for (i, (k, x)) in o.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_str(out, k);
                out.push_str(": ");
                write_value(out, x);
            }
            out.push('}');
        }
    }
}

/// `v` as Python-style JSON text.
pub fn to_string(v: &Value) -> String {
    let mut s = String::new();
    write_value(&mut s, v);
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_as_python_repr() {
        let cases = [
            (0.1, "0.1"),
            (1.0, "1.0"),
            (-0.0, "-0.0"),
            (0.0, "0.0"),
            (1e16, "1e+16"),
            (1.5e16, "1.5e+16"),
            (1e15, "1000000000000000.0"),
            (123456.789, "123456.789"),
            (0.0001, "0.0001"),
            (1e-05, "1e-05"),
            (1.25e-7, "1.25e-07"),
            (0.875, "0.875"),
            (1e300, "1e+300"),
            (-2.5e-310, "-2.5e-310"),
            (f64::INFINITY, "Infinity"),
            (1223383794756801.2, "1223383794756801.2"),
            (5e-324, "5e-324"),
            (1.7976931348623157e308, "1.7976931348623157e+308"),
        ];
        for (x, want) in cases {
            assert_eq!(float_repr(x), want, "{x:e}");
        }
    }

    #[test]
    fn strings_as_python() {
        let mut s = String::new();
        write_str(&mut s, "é\"\\/\u{1}\u{8}\u{c}\n\r\t\u{7f}\u{2028}🤒");
        assert_eq!(s, "\"é\\\"\\\\/\\u0001\\b\\f\\n\\r\\t\u{7f}\u{2028}🤒\"");
    }

    #[test]
    fn values_as_python() {
        let v: Value =
            serde_json::from_str(r#"{"a":[1,2.50,null,true],"b":{"c":-3,"d":1E2}}"#).expect("json");
        assert_eq!(
            to_string(&v),
            r#"{"a": [1, 2.5, null, true], "b": {"c": -3, "d": 100.0}}"#
        );
    }
}
