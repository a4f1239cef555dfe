//! RFC 3161 time-stamps (`cms::timestamp`) against a real authority, `openssl ts -reply`
//! (`common/tsa.rs`): the request openssl reads, a granted response, a refusal, a response
//! to another request (nonce), for another signature (imprint), truncated or not one at all.
#![allow(clippy::unwrap_used)]

mod common;

use common::run;
use common::tsa::tsa;
use paraphe_formats::cms::timestamp::{self, TimestampError};
use sha2::Digest;
use std::process::Command;

const SIGNATURE: &[u8] = b"the signature value of a SignerInfo, as the card made it";
const NONCE: [u8; 8] = [0x9c, 1, 2, 3, 4, 5, 6, 7];

fn granted() -> Vec<u8> {
    tsa().reply(&timestamp::request(SIGNATURE, &NONCE).unwrap())
}

#[test]
fn the_request_is_what_openssl_reads() {
    let dir = common::scratch("tsq");
    let file = dir.join("query.tsq");
    std::fs::write(&file, timestamp::request(SIGNATURE, &NONCE).unwrap()).unwrap();
    let text =
        String::from_utf8(run(Command::new("openssl").args(["ts", "-query", "-text", "-in"]).arg(&file))).unwrap();
    assert!(text.contains("Version: 1"), "{text}");
    assert!(text.contains("Hash Algorithm: sha256"), "{text}");
    assert!(text.contains("Policy OID: unspecified"), "{text}");
    assert!(text.contains("Nonce: 0x9C01020304050607"), "{text}");
    assert!(text.contains("Certificate required: yes"), "{text}");
    let imprint = hex::encode(sha2::Sha256::digest(SIGNATURE));
    let dump: String = text.split("Message data:").nth(1).unwrap().split("Policy OID").next().unwrap().to_owned();
    let dumped: String = dump
        .lines()
        .filter_map(|l| l.split_once(" - ").map(|(_, rest)| rest.split("  ").next().unwrap_or("").to_owned()))
        .flat_map(|l| l.split(['-', ' ']).map(str::to_owned).collect::<Vec<_>>())
        .collect::<String>();
    assert_eq!(dumped, imprint, "{text}");
}

#[test]
fn granted_token_checked_and_verified_by_openssl() {
    let response = granted();
    let token = timestamp::token(&response, SIGNATURE, &NONCE).unwrap();
    let (ok, out) = tsa().verify_token(&token, &sha2::Sha256::digest(SIGNATURE));
    assert!(ok, "openssl ts -verify: {out}");
    assert!(out.contains("Verification: OK"), "{out}");
}

#[test]
fn refusal_by_the_authority() {
    // A policy the authority does not accept: openssl answers rejection, unacceptedPolicy.
    let query = tsa().openssl_query(SIGNATURE, &["-sha256", "-cert", "-tspolicy", "1.2.250.1.999.42"]);
    let response = tsa().reply(&query);
    match timestamp::token(&response, SIGNATURE, &NONCE) {
        Err(TimestampError::Rejected { status: 2, fail_info, text }) => {
            assert_eq!(fail_info, [15], "unacceptedPolicy");
            assert!(text.contains("policy"), "{text}");
        }
        other => panic!("{other:?}"),
    }
    let message = timestamp::token(&response, SIGNATURE, &NONCE).unwrap_err().to_string();
    assert!(message.starts_with("the time-stamp authority refused (status 2, failure 15: "), "{message}");
}

#[test]
fn another_request_or_another_signature() {
    let response = granted();
    assert_eq!(
        timestamp::token(&response, SIGNATURE, &[0x9c, 1, 2, 3, 4, 5, 6, 8]),
        Err(TimestampError::NonceMismatch)
    );
    assert_eq!(timestamp::token(&response, b"another signature", &NONCE), Err(TimestampError::ImprintMismatch));
    // A request without a nonce gets a token without one.
    let no_nonce = tsa().reply(&tsa().openssl_query(SIGNATURE, &["-sha256", "-cert", "-no_nonce"]));
    assert_eq!(timestamp::token(&no_nonce, SIGNATURE, &NONCE), Err(TimestampError::NonceMismatch));
    // Another hash function than the request's.
    let sha384 = tsa().reply(&tsa().openssl_query(SIGNATURE, &["-sha384", "-cert"]));
    assert!(matches!(
        timestamp::token(&sha384, SIGNATURE, &NONCE),
        Err(TimestampError::ImprintMismatch | TimestampError::NonceMismatch)
    ));
}

#[test]
fn truncated_garbage_and_too_large() {
    let response = granted();
    for cut in (0..response.len()).step_by(7).chain([response.len() - 1]) {
        match timestamp::token(&response[..cut], SIGNATURE, &NONCE) {
            Err(TimestampError::Malformed(_)) => {}
            other => panic!("cut at {cut}: {other:?}"),
        }
    }
    let html = b"<html><body>502 Bad Gateway</body></html>";
    assert!(matches!(timestamp::token(html, SIGNATURE, &NONCE), Err(TimestampError::Malformed(_))));
    assert!(matches!(timestamp::token(&[], SIGNATURE, &NONCE), Err(TimestampError::Malformed(_))));
    let large = vec![0x30; timestamp::MAX_RESPONSE + 1];
    assert_eq!(timestamp::token(&large, SIGNATURE, &NONCE), Err(TimestampError::TooLarge(large.len())));
    // Granted with no token; a token that is a SignedData over id-data.
    assert_eq!(timestamp::token(&[0x30, 5, 0x30, 3, 2, 1, 0], SIGNATURE, &NONCE), Err(TimestampError::NoToken));
    assert_eq!(timestamp::request(SIGNATURE, &[1; 4]), Err(TimestampError::Nonce));
}
