use ceiba_emvqr::{PAYLOAD_CHARS_MAX, checksum, decode, decode_bytes};

/// EMV merchant QR payloads (`ceiba_emvqr::decode_bytes`, `decode`, `Payload::encode`), as a
/// camera hands them over. The bytes are tried as they are and again with their CRC made right
/// (when they end like a payload, `6304` and four characters), so that the fuzzer reaches the
/// checks that come after the CRC.
pub fn emv_qr(data: &[u8]) {
    check_payload(data);
    if let Some(fixed) = with_crc_made_right(data) {
        check_payload(fixed.as_bytes());
    }
}

fn check_payload(data: &[u8]) {
    let decoded = decode_bytes(data);
    let Ok(text) = std::str::from_utf8(data) else {
        assert!(decoded.is_err(), "bytes that are not UTF-8 were accepted");
        return;
    };
    assert_eq!(decoded, decode(text), "decode_bytes and decode disagree");
    match decoded {
        Ok(payload) => {
            assert!(text.chars().count() <= PAYLOAD_CHARS_MAX);
            // Architecture Invariant (ARCHITECTURE.md): `decode(x)?.encode() == x`.
            let encoded = payload.encode();
            assert_eq!(encoded, text, "an accepted payload encodes to other text");
            assert_eq!(decode(&encoded).as_ref(), Ok(&payload));
            // Every accessor of an accepted payload answers without panicking.
            let _ = (
                payload.merchant_name(),
                payload.merchant_city(),
                payload.category_code(),
                payload.currency(),
                payload.country(),
                payload.amount(),
                payload.point_of_initiation(),
                payload.tip(),
                payload.postal_code(),
                payload.reference_label(),
                payload.bill_number(),
                payload.crc(),
            );
            assert!(payload.merchant_accounts().count() >= 1);
            assert!(payload.objects().len() <= PAYLOAD_CHARS_MAX / 4);
            if let Some(additional) = payload.additional_data() {
                let _ = (
                    additional.mobile_number(),
                    additional.store_label(),
                    additional.objects().len(),
                );
            }
            let _ = payload.alternate_language();
            let _ = payload.unreserved_templates().count();
        }
        Err(error) => assert!(!error.to_string().is_empty(), "an error without a message"),
    }
}

/// The text with its last four characters replaced by the CRC of what precedes them, when it
/// ends in `6304` and four characters; `None` otherwise.
pub(crate) fn with_crc_made_right(data: &[u8]) -> Option<String> {
    let text = std::str::from_utf8(data).ok()?;
    let cut = text.char_indices().rev().nth(3)?.0;
    let head = &text[..cut];
    if !head.ends_with("6304") {
        return None;
    }
    let fixed = format!("{head}{:04X}", checksum(head.as_bytes()));
    (fixed != text).then_some(fixed)
}
