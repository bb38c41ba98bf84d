//! The EMV QR codec through its public API: published payloads, a table of refusals, the
//! builder, drawing (scanned back), and properties under proptest.

use ceiba_emvqr::{
    AdditionalDataFields, AlternateLanguageFields, BuildError, DecodeError, FieldId,
    MerchantAccount, MerchantQr, PAYLOAD_CHARS_MAX, Payload, PointOfInitiation, Tag, Tip, checksum,
    decode, decode_bytes,
};
use proptest::prelude::*;

/// The published payloads (`shared/data/emvqr/vectors.txt`, beside the repository).
fn vectors() -> Vec<String> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/data/emvqr/vectors.txt"
    );
    let text = std::fs::read_to_string(path).unwrap_or_else(|error| {
        panic!("the EMV QR vectors must be at {path} (shared/data beside the repository): {error}")
    });
    let vectors: Vec<String> = text
        .lines()
        .filter(|line| !line.starts_with('#') && !line.trim().is_empty())
        .map(str::to_owned)
        .collect();
    assert_eq!(
        vectors.len(),
        3,
        "the vectors file changed: update these tests"
    );
    vectors
}

fn tag(number: u8) -> Tag {
    Tag::new(number).expect("an ID of two digits")
}

fn top(number: u8) -> FieldId {
    FieldId::new(None, tag(number))
}

fn inside(template: u8, number: u8) -> FieldId {
    FieldId::new(Some(tag(template)), tag(number))
}

/// `body` with "6304" and its CRC appended, so that a test reaches the check it is about.
fn with_crc(body: &str) -> String {
    let covered = format!("{body}6304");
    let crc = checksum(covered.as_bytes());
    format!("{covered}{crc:04X}")
}

/// A valid body (everything before "6304"): Ceiba's account template, a name with an accent.
const BODY: &str = "000201010211\
                    26200008cu.ceiba01041234\
                    52045411\
                    5303192\
                    5802CU\
                    5914Bodega Ñañá 23\
                    6009La Habana\
                    62080504F-17";

#[test]
fn crc_check_value() {
    assert_eq!(checksum(b"123456789"), 0x29B1);
    assert_eq!(checksum(b""), 0xFFFF);
}

#[test]
fn every_valid_vector_decodes_validates_and_encodes_back_byte_for_byte() {
    let vectors = vectors();
    for vector in &vectors[..2] {
        let payload = decode(vector).unwrap_or_else(|error| panic!("{vector}: {error}"));
        assert_eq!(&payload.encode(), vector);
        assert_eq!(decode_bytes(vector.as_bytes()).as_ref(), Ok(&payload));
    }
}

/// The third vector (a payment provider's public test payload) has a right CRC but is not a
/// valid payload: its template 26 holds 103 characters, and it writes that length with three
/// digits ("26" "103" "0014br.gov.bcb.pix…"), where the specification allows two (at most 99).
/// Read with two, the length is 10 and the next "ID" is "v.".
#[test]
fn the_vector_with_a_three_digit_length_is_refused() {
    let vector = &vectors()[2];
    assert!(vector.starts_with("000201010212261030014br.gov.bcb.pix2581"));
    assert_eq!(
        decode(vector),
        Err(DecodeError::BadId {
            template: None,
            found: "v.".to_owned(),
            at: 26,
        })
    );
}

#[test]
fn pix_static_example_reads_as_published() {
    let payload = decode(&vectors()[0]).unwrap();
    assert_eq!(payload.merchant_name(), "Fulano de Tal");
    assert_eq!(payload.merchant_city(), "BRASILIA");
    assert_eq!(payload.category_code(), "0000");
    assert_eq!(payload.currency(), "986");
    assert_eq!(payload.country(), "BR");
    assert_eq!(payload.amount(), None);
    assert_eq!(payload.point_of_initiation(), None);
    assert_eq!(payload.reference_label(), Some("***"));
    assert_eq!(payload.bill_number(), None);
    assert_eq!(payload.crc(), "1D3D");
    let accounts: Vec<_> = payload.merchant_accounts().collect();
    assert_eq!(accounts.len(), 1);
    assert_eq!(accounts[0].tag(), tag(26));
    assert_eq!(accounts[0].field(0), Some("br.gov.bcb.pix"));
    assert_eq!(
        accounts[0].field(1),
        Some("123e4567-e12b-12d1-a456-426655440000")
    );
}

#[test]
fn emvco_example_with_chinese_template_reads_in_characters() {
    let payload = decode(&vectors()[1]).unwrap();
    assert_eq!(payload.merchant_name(), "BEST TRANSPORT");
    assert_eq!(payload.merchant_city(), "BEIJING");
    assert_eq!(payload.category_code(), "4111");
    assert_eq!(payload.currency(), "156");
    assert_eq!(payload.amount(), Some("23.72"));
    assert_eq!(payload.tip(), Some(Tip::Prompt));
    assert_eq!(
        payload.point_of_initiation(),
        Some(PointOfInitiation::Dynamic)
    );
    let language = payload.alternate_language().unwrap();
    assert_eq!(language.language(), "ZH");
    assert_eq!(language.merchant_name(), "最佳运输");
    assert_eq!(language.merchant_city(), Some("北京"));
    let data = payload.additional_data().unwrap();
    assert_eq!(data.store_label(), Some("1234"));
    assert_eq!(data.customer_label(), Some("***"));
    assert_eq!(data.terminal_label(), Some("A6008667"));
    assert_eq!(data.consumer_data_request(), Some("ME"));
    let accounts: Vec<_> = payload.merchant_accounts().map(|a| a.tag()).collect();
    assert_eq!(accounts, [tag(29), tag(31)]);
    let unreserved: Vec<_> = payload.unreserved_templates().collect();
    assert_eq!(unreserved.len(), 1);
    assert_eq!(unreserved[0].field(0), Some("A011223344998877"));
    assert_eq!(unreserved[0].field(7), Some("12345678"));
}

#[test]
fn the_test_body_is_valid() {
    let payload = decode(&with_crc(BODY)).unwrap();
    assert_eq!(payload.merchant_name(), "Bodega Ñañá 23");
    assert_eq!(payload.reference_label(), Some("F-17"));
}

/// Each bad payload and the one error it must give.
#[test]
fn bad_payloads_give_their_own_error() {
    let good = with_crc(BODY);
    let body_at =
        |needle: &str| BODY.chars().count() - BODY[BODY.find(needle).unwrap()..].chars().count();
    let cases: Vec<(&str, String, DecodeError)> = vec![
        (
            "CRC changed",
            format!("{}0000", &good[..good.len() - 4]),
            DecodeError::CrcMismatch {
                expected: good[good.len() - 4..].to_owned(),
                found: "0000".to_owned(),
            },
        ),
        (
            "a character changed, CRC kept",
            good.replace("La Habana", "La Habano"),
            DecodeError::CrcMismatch {
                expected: with_crc(&BODY.replace("La Habana", "La Habano"))[good.len() - 4..]
                    .to_owned(),
                found: good[good.len() - 4..].to_owned(),
            },
        ),
        (
            "length not digits",
            with_crc(&BODY.replace("5303192", "53A3192")),
            DecodeError::BadLength {
                field: top(53),
                at: body_at("5303192") + 2,
            },
        ),
        (
            "length past the end",
            with_crc(&BODY.replace("62080504F-17", "62990504F-17")),
            DecodeError::LengthPastEnd {
                field: top(62),
                declared: 99,
                remaining: 8 + 8,
                at: body_at("62080504"),
            },
        ),
        (
            "length 00",
            with_crc(&format!("{BODY}6100")),
            DecodeError::EmptyValue {
                field: top(61),
                at: BODY.chars().count(),
            },
        ),
        (
            "ID not digits",
            with_crc(&BODY.replace("5303192", "5X03192")),
            DecodeError::BadId {
                template: None,
                found: "5X".to_owned(),
                at: body_at("5303192"),
            },
        ),
        (
            "cut inside a length",
            "0002010".to_owned(),
            DecodeError::Truncated {
                template: None,
                at: 6,
            },
        ),
        (
            "00 not first",
            with_crc(&BODY.replacen("000201010211", "010211000201", 1)),
            DecodeError::FormatIndicatorNotFirst { found: tag(1) },
        ),
        (
            "00 not 01",
            with_crc(&BODY.replacen("000201", "000202", 1)),
            DecodeError::Malformed {
                field: top(0),
                expected: "«01»",
                found: "02".to_owned(),
            },
        ),
        (
            "63 not last",
            format!("{good}6106100000"),
            DecodeError::CrcNotLast { next: tag(61) },
        ),
        (
            "63 missing",
            BODY.to_owned(),
            DecodeError::MissingField { field: top(63) },
        ),
        (
            "63 not hexadecimal",
            format!("{BODY}6304XYZW"),
            DecodeError::Malformed {
                field: top(63),
                expected: "cuatro cifras hexadecimales",
                found: "XYZW".to_owned(),
            },
        ),
        (
            "duplicate ID",
            with_crc(&format!("{BODY}5802CU")),
            DecodeError::DuplicateId {
                field: top(58),
                at: BODY.chars().count(),
            },
        ),
        (
            "duplicate ID inside a template",
            with_crc(&BODY.replace("62080504F-17", "62160504F-170504F-18")),
            DecodeError::DuplicateId {
                field: inside(62, 5),
                at: body_at("62080504") + 12,
            },
        ),
        (
            "length not digits inside a template",
            with_crc(&BODY.replace("62080504F-17", "620805x4F-17")),
            DecodeError::BadLength {
                field: inside(62, 5),
                at: body_at("62080504") + 6,
            },
        ),
        (
            "merchant name missing",
            with_crc(&BODY.replace("5914Bodega Ñañá 23", "")),
            DecodeError::MissingField { field: top(59) },
        ),
        (
            "merchant city missing",
            with_crc(&BODY.replace("6009La Habana", "")),
            DecodeError::MissingField { field: top(60) },
        ),
        (
            "currency missing",
            with_crc(&BODY.replace("5303192", "")),
            DecodeError::MissingField { field: top(53) },
        ),
        (
            "merchant account missing",
            with_crc(&BODY.replace("26200008cu.ceiba01041234", "")),
            DecodeError::MissingMerchantAccount,
        ),
        (
            "globally unique identifier missing",
            with_crc(&BODY.replace("26200008cu.ceiba01041234", "260801041234")),
            DecodeError::MissingField {
                field: inside(26, 0),
            },
        ),
        (
            "category code not digits",
            with_crc(&BODY.replace("52045411", "520454A1")),
            DecodeError::Malformed {
                field: top(52),
                expected: "cuatro cifras (ISO 18245)",
                found: "54A1".to_owned(),
            },
        ),
        (
            "amount with a comma",
            with_crc(&format!("{BODY}540512,50")),
            DecodeError::Malformed {
                field: top(54),
                expected: "un importe como 12.50 (cifras y, si acaso, un punto y decimales)",
                found: "12,50".to_owned(),
            },
        ),
        (
            "country in lower case",
            with_crc(&BODY.replace("5802CU", "5802cu")),
            DecodeError::Malformed {
                field: top(58),
                expected: "dos letras mayúsculas (ISO 3166-1, p. ej. CU)",
                found: "cu".to_owned(),
            },
        ),
        (
            "merchant name too long",
            with_crc(&BODY.replace("5914Bodega Ñañá 23", "5926Bodega La Esquina Ñañá 234")),
            DecodeError::ValueTooLong {
                field: top(59),
                chars: 26,
                chars_max: 25,
            },
        ),
        (
            "fixed fee without its value",
            with_crc(&format!("{BODY}550202")),
            DecodeError::FeeMissing {
                indicator: "02".to_owned(),
                field: top(56),
            },
        ),
        ("empty", String::new(), DecodeError::Empty),
        (
            "too long",
            "0".repeat(PAYLOAD_CHARS_MAX + 1),
            DecodeError::TooLong {
                chars_max: PAYLOAD_CHARS_MAX,
            },
        ),
    ];
    for (name, payload, expected) in cases {
        assert_eq!(decode(&payload), Err(expected), "{name}: {payload}");
    }
}

#[test]
fn lengths_count_characters_not_bytes() {
    // "Ñañá" is 4 characters and 7 bytes: a length in bytes runs into the next field.
    let in_bytes = with_crc(&BODY.replace("5914Bodega Ñañá 23", "5917Bodega Ñañá 23"));
    assert!(matches!(
        decode(&in_bytes),
        Err(DecodeError::LengthPastEnd { .. } | DecodeError::BadId { .. })
    ));
}

#[test]
fn refusals_read_as_spanish_sentences() {
    let vector = &vectors()[0];
    let changed = format!("{}1D3E", &vector[..vector.len() - 4]);
    assert_eq!(
        decode(&changed).unwrap_err().to_string(),
        "el CRC no coincide: se esperaba 1D3D y el código trae 1D3E"
    );
    assert_eq!(
        decode(&with_crc(&BODY.replace("5914Bodega Ñañá 23", "")))
            .unwrap_err()
            .to_string(),
        "falta el campo obligatorio 59 (nombre del comercio)"
    );
    assert_eq!(
        decode(&with_crc(&format!("{BODY}54x212")))
            .unwrap_err()
            .to_string(),
        format!(
            "la longitud del campo 54 no es un número de dos cifras (carácter {})",
            BODY.chars().count() + 3
        )
    );
    assert_eq!(
        decode(&with_crc(&BODY.replace("62080504F-17", "620805x4F-17")))
            .unwrap_err()
            .to_string(),
        format!(
            "la longitud del campo 05 de la plantilla 62 no es un número de dos cifras \
             (carácter {})",
            BODY.chars().count() - 12 + 7
        )
    );
}

#[test]
fn bytes_that_are_not_utf8_are_refused_with_their_position() {
    assert_eq!(
        decode_bytes(b"\xff000201"),
        Err(DecodeError::NotUtf8 { byte: 0 })
    );
    let vector = vectors()[1].clone();
    let bytes = vector.as_bytes();
    // Cut in the middle of "最" (three bytes).
    let cut = vector.find('最').unwrap() + 1;
    let mut broken = bytes[..cut].to_vec();
    broken.extend_from_slice(&bytes[cut + 2..]);
    assert_eq!(
        decode_bytes(&broken),
        Err(DecodeError::NotUtf8 { byte: cut - 1 })
    );
}

fn ceiba_shop() -> MerchantQr {
    MerchantQr {
        accounts: vec![MerchantAccount::ceiba("1234")],
        category_code: "5411".to_owned(),
        currency: "192".to_owned(),
        country: "CU".to_owned(),
        name: "Bodega Ñañá 23".to_owned(),
        city: "La Habana".to_owned(),
        additional_data: AdditionalDataFields {
            reference_label: Some("F-17".to_owned()),
            ..AdditionalDataFields::default()
        },
        ..MerchantQr::default()
    }
}

#[test]
fn builder_writes_fields_in_id_order_with_the_crc() {
    assert_eq!(ceiba_shop().encode(), Ok(with_crc(BODY)));
    let dynamic = MerchantQr {
        point_of_initiation: PointOfInitiation::Dynamic,
        amount: Some("12.50".to_owned()),
        ..ceiba_shop()
    };
    assert_eq!(
        dynamic.encode(),
        Ok(with_crc(
            &BODY
                .replacen("010211", "010212", 1)
                .replace("5303192", "5303192540512.50")
        ))
    );
}

#[test]
fn builder_refuses_what_does_not_fit() {
    let cases: Vec<(&str, MerchantQr, BuildError)> = vec![
        (
            "empty name",
            MerchantQr {
                name: String::new(),
                ..ceiba_shop()
            },
            BuildError::Empty { field: top(59) },
        ),
        (
            "name too long",
            MerchantQr {
                name: "Ñ".repeat(26),
                ..ceiba_shop()
            },
            BuildError::ValueTooLong {
                field: top(59),
                chars: 26,
                chars_max: 25,
            },
        ),
        (
            "control character",
            MerchantQr {
                city: "La\nHabana".to_owned(),
                ..ceiba_shop()
            },
            BuildError::ControlCharacter { field: top(60) },
        ),
        (
            "currency by letters",
            MerchantQr {
                currency: "CUP".to_owned(),
                ..ceiba_shop()
            },
            BuildError::Malformed {
                field: top(53),
                expected: "tres cifras (código numérico ISO 4217, p. ej. 192)",
                found: "CUP".to_owned(),
            },
        ),
        (
            "amount with a comma",
            MerchantQr {
                amount: Some("12,50".to_owned()),
                ..ceiba_shop()
            },
            BuildError::Malformed {
                field: top(54),
                expected: "un importe como 12.50 (cifras y, si acaso, un punto y decimales)",
                found: "12,50".to_owned(),
            },
        ),
        (
            "no account",
            MerchantQr {
                accounts: Vec::new(),
                ..ceiba_shop()
            },
            BuildError::NoMerchantAccount,
        ),
        (
            "account outside 26 to 51",
            MerchantQr {
                accounts: vec![MerchantAccount {
                    template: 52,
                    ..MerchantAccount::ceiba("1")
                }],
                ..ceiba_shop()
            },
            BuildError::AccountOutOfRange { number: 52 },
        ),
        (
            "account subfield 00 given twice",
            MerchantQr {
                accounts: vec![MerchantAccount {
                    fields: vec![(0, "x".to_owned())],
                    ..MerchantAccount::ceiba("1")
                }],
                ..ceiba_shop()
            },
            BuildError::SubfieldOutOfRange {
                template: tag(26),
                number: 0,
            },
        ),
        (
            "two accounts in one template",
            MerchantQr {
                accounts: vec![MerchantAccount::ceiba("1"), MerchantAccount::ceiba("2")],
                ..ceiba_shop()
            },
            BuildError::Duplicate { field: top(26) },
        ),
        (
            "additional data over 99 characters",
            MerchantQr {
                additional_data: AdditionalDataFields {
                    bill_number: Some("1".repeat(25)),
                    store_label: Some("3".repeat(25)),
                    reference_label: Some("5".repeat(25)),
                    purpose: Some("8".repeat(25)),
                    ..AdditionalDataFields::default()
                },
                ..ceiba_shop()
            },
            BuildError::TemplateTooLong {
                field: top(62),
                chars: 4 * 29,
            },
        ),
        (
            "payload over 512 characters",
            MerchantQr {
                accounts: (26..=31)
                    .map(|template| MerchantAccount {
                        template,
                        globally_unique_identifier: "cu.ceiba".to_owned(),
                        fields: vec![(1, "9".repeat(80))],
                    })
                    .collect(),
                ..ceiba_shop()
            },
            BuildError::PayloadTooLong {
                chars: BODY.chars().count() - 24 + 6 * 100 + 8,
                chars_max: PAYLOAD_CHARS_MAX,
            },
        ),
    ];
    for (name, merchant, expected) in cases {
        assert_eq!(merchant.build(), Err(expected), "{name}");
    }
}

/// The pixels of a PNG made by `Payload::png`, as (width, grey values).
fn read_png(bytes: &[u8]) -> (usize, Vec<u8>) {
    let decoder = png::Decoder::new(std::io::Cursor::new(bytes));
    let mut reader = decoder.read_info().expect("a PNG header");
    let mut pixels = vec![0; reader.output_buffer_size().expect("a sane size")];
    let info = reader.next_frame(&mut pixels).expect("one frame");
    assert_eq!(info.color_type, png::ColorType::Grayscale);
    assert_eq!(info.width, info.height);
    pixels.truncate(info.buffer_size());
    (usize::try_from(info.width).unwrap(), pixels)
}

/// What a phone's scanner would read from the picture.
fn scan(width: usize, pixels: &[u8]) -> String {
    let mut image =
        rqrr::PreparedImage::prepare_from_greyscale(width, width, |x, y| pixels[y * width + x]);
    let grids = image.detect_grids();
    assert_eq!(grids.len(), 1, "one QR symbol in the picture");
    let (meta, content) = grids[0].decode().expect("the symbol decodes");
    // rqrr reports the format bits: 0 is level M.
    assert_eq!(meta.ecc_level, 0, "error correction M");
    content
}

#[test]
fn png_scans_back_to_the_payload() {
    for payload in [with_crc(BODY), vectors()[1].clone()] {
        let png = decode(&payload).unwrap().png().unwrap();
        assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"));
        let (width, pixels) = read_png(&png);
        // Whole modules, with the quiet zone white all round.
        assert_eq!(width % 8, 0);
        assert!(width >= (21 + 8) * 8);
        assert!(pixels[..width * 32].iter().all(|&p| p == 255));
        // The top-left finder pattern's corner is dark.
        assert_eq!(pixels[32 * width + 32], 0);
        assert_eq!(scan(width, &pixels), payload);
    }
}

#[test]
fn svg_is_a_document_with_dark_modules() {
    let svg = decode(&with_crc(BODY)).unwrap().svg().unwrap();
    assert!(svg.contains("<svg"), "{svg}");
    assert!(svg.contains("#000000"));
    assert!(svg.trim_end().ends_with("</svg>"));
}

fn non_control(chars_max: usize) -> impl Strategy<Value = String> {
    // Letters of several scripts, digits and punctuation: multi-byte characters included.
    proptest::collection::vec(
        prop_oneof![
            proptest::char::range('a', 'z'),
            proptest::char::range('A', 'Z'),
            proptest::char::range('0', '9'),
            Just(' '),
            Just('.'),
            Just('-'),
            prop::sample::select(vec![
                'á', 'é', 'í', 'ó', 'ú', 'ñ', 'Ñ', 'ü', '最', '运', '€', '😀'
            ]),
            proptest::char::any().prop_filter("no control characters", |c| !c.is_control()),
        ],
        1..=chars_max,
    )
    .prop_map(|chars| chars.into_iter().collect())
}

fn optional(strategy: impl Strategy<Value = String>) -> impl Strategy<Value = Option<String>> {
    proptest::option::of(strategy)
}

fn merchant_account() -> impl Strategy<Value = MerchantAccount> {
    (
        26u8..=51,
        "[a-z][a-z.]{0,31}",
        proptest::collection::btree_map(1u8..=99, non_control(20), 0..=2),
    )
        .prop_map(|(template, identifier, fields)| MerchantAccount {
            template,
            globally_unique_identifier: identifier,
            fields: fields.into_iter().collect(),
        })
}

/// At most three of the eight subfields of 62, so the template stays within 99 characters.
fn additional_data() -> impl Strategy<Value = AdditionalDataFields> {
    proptest::collection::btree_map(1u8..=8, non_control(25), 0..=3).prop_map(|fields| {
        let field = |number: u8| fields.get(&number).cloned();
        AdditionalDataFields {
            bill_number: field(1),
            mobile_number: field(2),
            store_label: field(3),
            loyalty_number: field(4),
            reference_label: field(5),
            customer_label: field(6),
            terminal_label: field(7),
            purpose: field(8),
        }
    })
}

fn merchant() -> impl Strategy<Value = MerchantQr> {
    let tip = proptest::option::of(prop_oneof![
        Just(Tip::Prompt),
        "[0-9]{1,10}(\\.[0-9]{0,2})?".prop_map(Tip::Fixed),
        "[0-9]{1,2}(\\.[0-9]{1,2})?".prop_map(Tip::Percentage),
    ]);
    let language = proptest::option::of(
        ("[a-zA-Z]{2}", non_control(25), optional(non_control(15))).prop_map(
            |(language, name, city)| AlternateLanguageFields {
                language,
                name,
                city,
            },
        ),
    );
    (
        (
            prop_oneof![
                Just(PointOfInitiation::Static),
                Just(PointOfInitiation::Dynamic)
            ],
            proptest::collection::btree_map(26u8..=51, merchant_account(), 1..=2),
            "[0-9]{4}",
            "[0-9]{3}",
            optional("[0-9]{1,10}(\\.[0-9]{0,2})?".boxed()),
            tip,
        ),
        (
            "[A-Z]{2}",
            non_control(25),
            non_control(15),
            optional(non_control(10)),
            additional_data(),
            language,
        ),
    )
        .prop_map(
            |(
                (point_of_initiation, accounts, category_code, currency, amount, tip),
                (country, name, city, postal_code, additional_data, alternate_language),
            )| MerchantQr {
                point_of_initiation,
                // The map's key decides the template, so no two accounts share one.
                accounts: accounts
                    .into_iter()
                    .map(|(template, account)| MerchantAccount {
                        template,
                        ..account
                    })
                    .collect(),
                category_code,
                currency,
                amount,
                tip,
                country,
                name,
                city,
                postal_code,
                additional_data,
                alternate_language,
            },
        )
}

/// One edit of a payload's characters.
#[derive(Debug, Clone)]
enum Edit {
    Replace(usize, char),
    Insert(usize, char),
    Remove(usize),
}

fn edits() -> impl Strategy<Value = Vec<Edit>> {
    let character = prop_oneof![
        proptest::char::range('0', '9'),
        proptest::char::any(),
        Just('最'),
    ];
    proptest::collection::vec(
        prop_oneof![
            (any::<usize>(), character.clone()).prop_map(|(at, c)| Edit::Replace(at, c)),
            (any::<usize>(), character).prop_map(|(at, c)| Edit::Insert(at, c)),
            any::<usize>().prop_map(Edit::Remove),
        ],
        1..=4,
    )
}

fn apply(text: &str, edits: &[Edit]) -> String {
    let mut chars: Vec<char> = text.chars().collect();
    for edit in edits {
        let len = chars.len().max(1);
        match *edit {
            Edit::Replace(at, c) if !chars.is_empty() => chars[at % len] = c,
            Edit::Insert(at, c) => chars.insert(at % (chars.len() + 1), c),
            Edit::Remove(at) if !chars.is_empty() => {
                chars.remove(at % len);
            }
            Edit::Replace(..) | Edit::Remove(_) => {}
        }
    }
    chars.into_iter().collect()
}

/// Whatever decodes must encode back to exactly what came in.
fn decodes_back_or_refuses(text: &str) -> Result<(), TestCaseError> {
    if let Ok(payload) = decode(text) {
        prop_assert_eq!(payload.encode(), text);
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn built_payloads_decode_to_their_fields(merchant in merchant()) {
        let text = merchant.encode().map_err(|e| TestCaseError::fail(e.to_string()))?;
        let payload: Payload =
            decode(&text).map_err(|e| TestCaseError::fail(format!("{e}: {text}")))?;
        prop_assert_eq!(payload.encode(), text.clone());
        prop_assert!(text.chars().count() <= PAYLOAD_CHARS_MAX);
        prop_assert_eq!(payload.point_of_initiation(), Some(merchant.point_of_initiation));
        prop_assert_eq!(payload.category_code(), merchant.category_code.as_str());
        prop_assert_eq!(payload.currency(), merchant.currency.as_str());
        prop_assert_eq!(payload.amount(), merchant.amount.as_deref());
        prop_assert_eq!(payload.tip(), merchant.tip.clone());
        prop_assert_eq!(payload.country(), merchant.country.as_str());
        prop_assert_eq!(payload.merchant_name(), merchant.name.as_str());
        prop_assert_eq!(payload.merchant_city(), merchant.city.as_str());
        prop_assert_eq!(payload.postal_code(), merchant.postal_code.as_deref());

        let accounts: Vec<MerchantAccount> = payload
            .merchant_accounts()
            .map(|account| MerchantAccount {
                template: account.tag().number(),
                globally_unique_identifier: account.field(0).unwrap_or_default().to_owned(),
                fields: account
                    .objects()
                    .iter()
                    .skip(1)
                    .map(|o| (o.tag().number(), o.text().unwrap_or_default().to_owned()))
                    .collect(),
            })
            .collect();
        prop_assert_eq!(accounts, merchant.accounts.clone());

        let wanted = &merchant.additional_data;
        match payload.additional_data() {
            None => prop_assert_eq!(wanted, &AdditionalDataFields::default()),
            Some(data) => {
                let found = AdditionalDataFields {
                    bill_number: data.bill_number().map(str::to_owned),
                    mobile_number: data.mobile_number().map(str::to_owned),
                    store_label: data.store_label().map(str::to_owned),
                    loyalty_number: data.loyalty_number().map(str::to_owned),
                    reference_label: data.reference_label().map(str::to_owned),
                    customer_label: data.customer_label().map(str::to_owned),
                    terminal_label: data.terminal_label().map(str::to_owned),
                    purpose: data.purpose().map(str::to_owned),
                };
                prop_assert_eq!(&found, wanted);
                prop_assert_ne!(wanted, &AdditionalDataFields::default());
            }
        }
        let language = payload.alternate_language().map(|language| AlternateLanguageFields {
            language: language.language().to_owned(),
            name: language.merchant_name().to_owned(),
            city: language.merchant_city().map(str::to_owned),
        });
        prop_assert_eq!(language, merchant.alternate_language.clone());
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..700)) {
        let _ = decode_bytes(&bytes);
    }

    #[test]
    fn digit_soup_never_panics_and_what_decodes_encodes_back(text in "[0-9A-F最]{0,120}") {
        decodes_back_or_refuses(&text)?;
    }

    #[test]
    fn mutated_vectors_never_panic(index in 0usize..3, edits in edits()) {
        let vector = &vectors()[index];
        let mutated = apply(vector, &edits);
        let _ = decode_bytes(mutated.as_bytes());
        decodes_back_or_refuses(&mutated)?;
        // Byte-level damage too: a cut through a multi-byte character.
        let bytes = mutated.as_bytes();
        let _ = decode_bytes(&bytes[..bytes.len() / 2]);
    }

    #[test]
    fn mutated_vectors_with_a_fresh_crc_never_panic(index in 0usize..3, edits in edits()) {
        // With the CRC right again, decoding goes past it into templates and fields.
        let vector = &vectors()[index];
        let body: String = vector.chars().take(vector.chars().count() - 8).collect();
        let mutated = with_crc(&apply(&body, &edits));
        decodes_back_or_refuses(&mutated)?;
    }
}
