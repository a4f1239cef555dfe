//! Message envelopes. Browser → host: a request. Host → browser: a response to a request
//! (same `id`), a chunk of a response too large for one frame, or an unsolicited event.

use crate::error::WireError;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use serde_json::Value;

/// A request as read off the wire, before its arguments are checked against its command.
/// `arguments` stays borrowed raw JSON so a PIN inside it is parsed once, straight into its
/// zeroizing type, from the (zeroizing) frame buffer.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawRequest<'a> {
    /// Chosen by the caller, echoed in the response; unique among pending requests.
    pub id: u64,
    pub command: &'a str,
    #[serde(default, borrow)]
    pub arguments: Option<&'a RawValue>,
}

/// What can be salvaged from a request that is not a valid [`RawRequest`].
#[derive(Clone, Debug, Deserialize)]
pub struct RequestId {
    pub id: u64,
}

/// The answer to one request.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
pub struct Response {
    /// The request's id; `null` when the request was too broken to read one.
    pub id: Option<u64>,
    #[serde(flatten)]
    pub outcome: Outcome,
}

#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    Result(Value),
    Error(WireError),
}

impl Response {
    pub fn ok(id: u64, result: Value) -> Self {
        Self { id: Some(id), outcome: Outcome::Result(result) }
    }

    pub fn error(id: Option<u64>, error: WireError) -> Self {
        Self { id, outcome: Outcome::Error(error) }
    }
}

/// Something the host says unprompted (the `hello` handshake, card events).
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
pub struct Event {
    pub event: String,
    pub data: Value,
}

/// One slice of a response whose JSON text is longer than one frame allows. The receiver
/// concatenates `data` of chunks `0..count` (same `id`) and parses the result as a
/// [`Response`].
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
pub struct Chunk {
    pub id: Option<u64>,
    pub chunk: ChunkPart,
}

#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
pub struct ChunkPart {
    pub index: u32,
    pub count: u32,
    pub data: String,
}

/// Any host → browser message, as the extension reads it.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
#[serde(untagged)]
pub enum Outgoing {
    Chunk(Chunk),
    Event(Event),
    Response(Response),
}

/// Splits the JSON text of a response into chunks of at most `max` bytes of payload,
/// cutting only on character boundaries.
pub fn split_into_chunks(id: Option<u64>, json: &str, max: usize) -> Vec<Chunk> {
    let mut parts = Vec::new();
    let mut rest = json;
    while !rest.is_empty() {
        let mut cut = rest.len().min(max.max(4));
        while !rest.is_char_boundary(cut) {
            cut -= 1;
        }
        let (head, tail) = rest.split_at(cut);
        parts.push(head.to_owned());
        rest = tail;
    }
    let count = u32::try_from(parts.len()).unwrap_or(u32::MAX);
    parts
        .into_iter()
        .enumerate()
        .map(|(i, data)| Chunk { id, chunk: ChunkPart { index: u32::try_from(i).unwrap_or(u32::MAX), count, data } })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorCode;

    #[test]
    fn response_shapes() {
        let ok = serde_json::to_value(Response::ok(7, serde_json::json!({"a": 1}))).unwrap_or_default();
        assert_eq!(ok, serde_json::json!({"id": 7, "result": {"a": 1}}));
        let err = Response::error(None, WireError::new(ErrorCode::InvalidJson, "bad"));
        let v = serde_json::to_value(&err).unwrap_or_default();
        assert_eq!(v["id"], Value::Null);
        assert_eq!(v["error"]["code"], "INVALID_JSON");
        assert_eq!(v["error"]["number"], 4);
    }

    #[test]
    fn chunks_reassemble_on_char_boundaries() {
        let text = "é".repeat(1000) + "abc";
        let chunks = split_into_chunks(Some(3), &text, 7);
        assert!(chunks.iter().all(|c| c.chunk.data.len() <= 7));
        let joined: String = chunks.iter().map(|c| c.chunk.data.as_str()).collect();
        assert_eq!(joined, text);
        assert_eq!(chunks[0].chunk.count as usize, chunks.len());
    }

    #[test]
    fn outgoing_is_told_apart() {
        let e: Outgoing = serde_json::from_str(r#"{"event":"hello","data":{}}"#).expect("event");
        assert!(matches!(e, Outgoing::Event(_)));
        let r: Outgoing = serde_json::from_str(r#"{"id":1,"result":{}}"#).expect("response");
        assert!(matches!(r, Outgoing::Response(_)));
        let c: Outgoing = serde_json::from_str(r#"{"id":1,"chunk":{"index":0,"count":1,"data":"{}"}}"#).expect("chunk");
        assert!(matches!(c, Outgoing::Chunk(_)));
    }
}
