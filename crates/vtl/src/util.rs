//! `$util`: the helper functions API Gateway provides to mapping templates.

use base64::Engine;
use base64::engine::DecodePaddingMode;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig, STANDARD};

use crate::value::Value;

/// Standard alphabet; like `java.util.Base64`, decoding accepts input without padding.
const BASE64_DECODER: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// Calls `$util.<name>(args)`.
pub(crate) fn call(name: &str, args: &[Value]) -> Result<Value, String> {
    if name == "qr" {
        // "Quiet reference": evaluates its argument for side effects and renders nothing.
        return Ok(Value::Null);
    }
    let transform: fn(&str) -> Result<Value, String> = match name {
        "escapeJavaScript" => |s| Ok(Value::string(escape_javascript(s))),
        "parseJson" => |s| {
            serde_json::from_str(s)
                .map(|json| Value::from_json(&json))
                .map_err(|e| format!("`$util.parseJson`: invalid JSON: {e}"))
        },
        "urlEncode" => |s| Ok(Value::string(url_encode(s))),
        "urlDecode" => |s| url_decode(s).map(Value::string),
        "base64Encode" => |s| Ok(Value::string(STANDARD.encode(s))),
        "base64Decode" => |s| {
            BASE64_DECODER
                .decode(s)
                .map(|bytes| Value::string(String::from_utf8_lossy(&bytes)))
                .map_err(|e| format!("`$util.base64Decode`: invalid base64: {e}"))
        },
        _ => return Err(format!("unknown method `{name}` on `$util`")),
    };
    let [arg] = args else {
        return Err(format!("`$util.{name}` expects 1 argument, got {}", args.len()));
    };
    match arg {
        // The Java helpers return null for null input.
        Value::Null => Ok(Value::Null),
        Value::Str(s) => transform(s),
        other => transform(&other.to_java_string()),
    }
}

/// Apache Commons Lang 2 `StringEscapeUtils.escapeJavaScript`, which API Gateway uses: quotes,
/// backslash and `/` get a backslash, the usual control escapes are used where they exist,
/// and every other UTF-16 unit below 0x20 or above 0x7F becomes `\uXXXX` (uppercase hex).
/// DEL (0x7F) itself passes through, as in Commons Lang.
pub(crate) fn escape_javascript(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + s.len() / 8);
    for unit in s.encode_utf16() {
        match unit {
            0x27 => out.push_str("\\'"),
            0x22 => out.push_str("\\\""),
            0x5C => out.push_str("\\\\"),
            0x2F => out.push_str("\\/"),
            0x08 => out.push_str("\\b"),
            0x0C => out.push_str("\\f"),
            0x0A => out.push_str("\\n"),
            0x0D => out.push_str("\\r"),
            0x09 => out.push_str("\\t"),
            0x20..=0x7F => out.push(char::from(unit as u8)),
            _ => out.push_str(&format!("\\u{unit:04X}")),
        }
    }
    out
}

/// Java's `URLEncoder.encode(s, "UTF-8")` (application/x-www-form-urlencoded): ASCII letters,
/// digits and `.-*_` stay, space becomes `+`, every other byte of the UTF-8 form is `%XX`.
pub(crate) fn url_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for byte in s.bytes() {
        match byte {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'.' | b'-' | b'*' | b'_' => {
                out.push(char::from(byte));
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{byte:02X}")),
        }
    }
    out
}

/// Java's `URLDecoder.decode(s, "UTF-8")`: `+` is a space, `%XX` a byte; malformed UTF-8
/// becomes U+FFFD. A `%` not followed by two hex digits is an error, as in Java.
pub(crate) fn url_decode(s: &str) -> Result<String, String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&byte) = bytes.get(i) {
        match byte {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = bytes
                    .get(i + 1..i + 3)
                    .and_then(|h| std::str::from_utf8(h).ok())
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
                    .ok_or_else(|| format!("`$util.urlDecode`: malformed escape at byte {i} of `{s}`"))?;
                out.push(hex);
                i += 2;
            }
            other => out.push(other),
        }
        i += 1;
    }
    Ok(String::from_utf8_lossy(&out).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn util(name: &str, arg: &str) -> String {
        match call(name, &[Value::string(arg)]) {
            Ok(v) => v.to_java_string(),
            Err(e) => format!("error: {e}"),
        }
    }

    #[test]
    fn escape_javascript_matches_commons_lang() {
        assert_eq!(escape_javascript(r#"it's "x" \ /"#), r#"it\'s \"x\" \\ \/"#);
        assert_eq!(escape_javascript("a\nb\tc\r\u{8}\u{c}"), r"a\nb\tc\r\b\f");
        assert_eq!(escape_javascript("\u{1}\u{1f}"), r"\u0001\u001F");
        assert_eq!(escape_javascript("é€"), r"\u00E9\u20AC");
        assert_eq!(escape_javascript("😀"), r"\uD83D\uDE00");
        assert_eq!(escape_javascript("\u{7f}~"), "\u{7f}~");
    }

    #[test]
    fn url_encoding_matches_java() {
        assert_eq!(url_encode("a b&c=d/é*~._-"), "a+b%26c%3Dd%2F%C3%A9*%7E._-");
        assert_eq!(
            url_decode("a+b%26c%3Dd%2F%C3%A9*%7E").as_deref(),
            Ok("a b&c=d/é*~")
        );
        assert!(url_decode("100%").is_err());
        assert!(url_decode("%zz").is_err());
    }

    #[test]
    fn base64_round_trip() {
        assert_eq!(util("base64Encode", "some data"), "c29tZSBkYXRh");
        assert_eq!(util("base64Decode", "c29tZSBkYXRh"), "some data");
        assert_eq!(util("base64Decode", "YQ"), "a");
        assert!(util("base64Decode", "not base64!").starts_with("error: `$util.base64Decode`"));
    }

    #[test]
    fn parse_json() {
        assert_eq!(util("parseJson", r#"{"a":[1,2.5]}"#), "{a=[1, 2.5]}");
        assert!(util("parseJson", "{").starts_with("error: `$util.parseJson`"));
    }

    #[test]
    fn arguments() {
        assert!(matches!(
            call("escapeJavaScript", &[Value::Null]),
            Ok(Value::Null)
        ));
        assert!(matches!(call("qr", &[Value::Int(1)]), Ok(Value::Null)));
        assert_eq!(
            call("urlEncode", &[Value::Int(5)]).map(|v| v.to_java_string()),
            Ok("5".to_owned())
        );
        assert!(call("urlEncode", &[]).is_err());
        assert_eq!(
            call("toJson", &[]).err().as_deref(),
            Some("unknown method `toJson` on `$util`")
        );
    }
}
