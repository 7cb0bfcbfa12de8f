//! Hostile and broken conn.log input: every case is a clear `file:line` error in strict mode or a counted skip,
//! never a panic, a hang or unbounded memory.

use std::io::{Read, Write};

use mamori_flows::ingest::{
    ErrorMode, IngestError, IngestOptions, IngestStats, Malformed, ingest_file, ingest_reader,
};
use mamori_flows::record::ConnRecord;

const HEADER: &str = "#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n#path\tconn\n\
#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tservice\tduration\torig_bytes\tresp_bytes\tconn_state\tlocal_orig\tlocal_resp\tmissed_bytes\thistory\torig_pkts\torig_ip_bytes\tresp_pkts\tresp_ip_bytes\ttunnel_parents\n\
#types\ttime\tstring\taddr\tport\taddr\tport\tenum\tstring\tinterval\tcount\tcount\tstring\tbool\tbool\tcount\tstring\tcount\tcount\tcount\tcount\tset[string]\n";

fn line(ts: f64) -> String {
    format!(
        "{ts:.6}\tCabc\t10.0.0.5\t50000\t203.0.113.9\t443\ttcp\tssl\t0.5\t300\t4000\tSF\tT\tF\t0\tShADadFf\t5\t500\t5\t4200\t(empty)\n"
    )
}

fn run(input: &[u8], mode: ErrorMode) -> (Result<(), IngestError>, IngestStats, Vec<ConnRecord>) {
    let mut got = Vec::new();
    let mut sink = |r: &ConnRecord| got.push(*r);
    let mut stats = IngestStats::default();
    let opts = IngestOptions {
        mode,
        ..IngestOptions::default()
    };
    let res = ingest_reader("test.log", input, &opts, &mut sink, &mut stats);
    (res, stats, got)
}

fn strict_error(input: &[u8]) -> (u64, Malformed) {
    match run(input, ErrorMode::Strict).0 {
        Err(IngestError::Malformed { file, line, kind }) => {
            assert_eq!(file, "test.log");
            (line, kind)
        }
        other => panic!("expected a malformed-line error, got {other:?}"),
    }
}

#[test]
fn wrong_field_count() {
    let input = format!("{HEADER}{}1.0\tC\t10.0.0.5\t1\n{}", line(1.0), line(2.0));
    let (line_no, kind) = strict_error(input.as_bytes());
    assert_eq!(line_no, 9);
    assert_eq!(
        kind,
        Malformed::FieldCount {
            expected: 21,
            found: 4
        }
    );
    let (res, stats, got) = run(input.as_bytes(), ErrorMode::Skip);
    assert!(res.is_ok());
    assert_eq!(got.len(), 2);
    assert_eq!(stats.skipped.get("malformed.field_count"), Some(&1));
    assert_eq!(
        stats.examples[0],
        "test.log:9: expected 21 fields (from #fields), found 4"
    );
}

#[test]
fn non_numeric_values() {
    let bad = line(3.0).replace("\t300\t", "\tlots\t");
    let bad_port = line(4.0).replace("\t443\t", "\t99999\t");
    let bad_ts = line(5.0).replace("5.000000", "NaN");
    let input = format!("{HEADER}{}{bad}{bad_port}{bad_ts}", line(1.0));
    let (line_no, kind) = strict_error(input.as_bytes());
    assert_eq!(line_no, 9);
    assert!(
        matches!(
            kind,
            Malformed::BadValue {
                field: "orig_bytes",
                ..
            }
        ),
        "{kind:?}"
    );
    let (_, stats, got) = run(input.as_bytes(), ErrorMode::Skip);
    assert_eq!(got.len(), 1);
    assert_eq!(stats.skipped.get("malformed.bad_value"), Some(&3));
}

#[test]
fn timestamps_out_of_order_are_counted_and_kept() {
    let input = format!("{HEADER}{}{}{}", line(100.0), line(50.0), line(200.0));
    let (res, stats, got) = run(input.as_bytes(), ErrorMode::Strict);
    assert!(res.is_ok());
    assert_eq!(got.len(), 3);
    assert_eq!(stats.out_of_order, 1);
}

#[test]
fn no_fields_header() {
    let input = format!("{}{}", line(1.0), line(2.0));
    let (line_no, kind) = strict_error(input.as_bytes());
    assert_eq!((line_no, kind), (1, Malformed::NoHeader));
    let (_, stats, got) = run(input.as_bytes(), ErrorMode::Skip);
    assert!(got.is_empty());
    assert_eq!(stats.skipped.get("malformed.no_header"), Some(&2));
}

#[test]
fn other_log_types_are_refused() {
    let input = HEADER.replace("#path\tconn", "#path\tdns") + &line(1.0);
    let (line_no, kind) = strict_error(input.as_bytes());
    assert_eq!((line_no, kind), (5, Malformed::NotConn("dns".into())));
    let (_, stats, got) = run(input.as_bytes(), ErrorMode::Skip);
    assert!(got.is_empty());
    assert_eq!(
        stats.skipped.get("malformed.under_rejected_header"),
        Some(&1)
    );
}

/// A reader producing a 200 MB line lazily, so the test itself holds no such buffer.
struct HugeLine {
    prefix: std::io::Cursor<Vec<u8>>,
    remaining: u64,
    suffix: std::io::Cursor<Vec<u8>>,
}

impl Read for HugeLine {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        let n = self.prefix.read(out)?;
        if n > 0 {
            return Ok(n);
        }
        if self.remaining > 0 {
            let n = out.len().min(self.remaining as usize);
            out[..n].fill(b'A');
            self.remaining -= n as u64;
            return Ok(n);
        }
        self.suffix.read(out)
    }
}

#[test]
fn a_200_mb_line_is_skipped_with_bounded_memory() {
    let huge = || HugeLine {
        prefix: std::io::Cursor::new(format!("{HEADER}{}", line(1.0)).into_bytes()),
        remaining: 200 << 20,
        suffix: std::io::Cursor::new(format!("\n{}", line(2.0)).into_bytes()),
    };
    let opts = IngestOptions {
        mode: ErrorMode::Skip,
        max_line_len: 64 * 1024,
    };
    let mut n = 0;
    let mut sink = |_: &ConnRecord| n += 1;
    let mut stats = IngestStats::default();
    ingest_reader("huge.log", huge(), &opts, &mut sink, &mut stats).unwrap();
    assert_eq!(n, 2);
    assert_eq!(stats.skipped.get("limit.line_too_long"), Some(&1));
    assert!(
        stats.examples[0].starts_with(
            "huge.log:9: line of at least 209715200 bytes exceeds the 65536-byte limit"
        )
    );
    let strict = IngestOptions {
        mode: ErrorMode::Strict,
        ..opts
    };
    let err = ingest_reader(
        "huge.log",
        huge(),
        &strict,
        &mut |_: &ConnRecord| {},
        &mut IngestStats::default(),
    )
    .unwrap_err();
    assert!(
        matches!(
            err,
            IngestError::Malformed {
                line: 9,
                kind: Malformed::LineTooLong { .. },
                ..
            }
        ),
        "{err}"
    );
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(data).unwrap();
    enc.finish().unwrap()
}

#[test]
fn gzip_and_truncated_gzip() {
    let mut plain = HEADER.to_string();
    for i in 0..2000 {
        plain.push_str(&line(f64::from(i)));
    }
    let gz = gzip(plain.as_bytes());
    let (res, _, got) = run(&gz, ErrorMode::Strict);
    assert!(res.is_ok());
    assert_eq!(got.len(), 2000);

    // Rotated logs concatenated as gzip members.
    let mut two = gzip(plain.as_bytes());
    two.extend(gzip(line(5000.0).as_bytes()));
    assert_eq!(run(&two, ErrorMode::Strict).2.len(), 2001);

    let cut = &gz[..gz.len() / 2];
    match run(cut, ErrorMode::Strict).0 {
        Err(e @ IngestError::Read { .. }) => assert!(
            e.to_string()
                .starts_with("test.log: read failed after line"),
            "{e}"
        ),
        other => panic!("expected a read error, got {other:?}"),
    }
    let (res, stats, got) = run(cut, ErrorMode::Skip);
    assert!(res.is_ok());
    assert_eq!(stats.files_failed, 1);
    assert!(!got.is_empty() && got.len() < 2000, "{}", got.len());
}

#[test]
fn json_lines_with_garbage() {
    let input = b"{\"ts\":1.5,\"id.orig_h\":\"10.0.0.5\",\"id.resp_h\":\"203.0.113.9\",\"id.resp_p\":443}\n{\"ts\":\n{\"ts\":2.5,\"id.orig_h\":\"10.0.0.5\",\"id.resp_h\":\"203.0.113.9\",\"orig_bytes\":\"many\"}\n";
    let (line_no, kind) = strict_error(input);
    assert_eq!(line_no, 2);
    assert!(matches!(kind, Malformed::Json(_)));
    let (_, stats, got) = run(input, ErrorMode::Skip);
    assert_eq!(got.len(), 1);
    assert_eq!(stats.skipped.get("malformed.json"), Some(&2));
}

#[test]
fn binary_noise_never_panics() {
    let mut seed = 99u64;
    for round in 0..200 {
        let len = 1 + (round * 37) % 3000;
        let mut data: Vec<u8> = (0..len)
            .map(|_| {
                seed = seed
                    .wrapping_mul(6_364_136_223_846_793_005)
                    .wrapping_add(1_442_695_040_888_963_407);
                (seed >> 56) as u8
            })
            .collect();
        if round % 2 == 0 {
            let mut v = HEADER.as_bytes().to_vec();
            v.append(&mut data);
            data = v;
        }
        let _ = run(&data, ErrorMode::Skip);
        let _ = run(&data, ErrorMode::Strict);
    }
}

#[test]
fn missing_file_is_an_open_error_or_a_counted_failure() {
    let path = std::path::Path::new("/nonexistent/conn.log");
    let mut stats = IngestStats::default();
    let strict = IngestOptions {
        mode: ErrorMode::Strict,
        ..IngestOptions::default()
    };
    let err = ingest_file(path, &strict, &mut |_: &ConnRecord| {}, &mut stats).unwrap_err();
    assert!(
        err.to_string()
            .starts_with("/nonexistent/conn.log: cannot open"),
        "{err}"
    );
    ingest_file(
        path,
        &IngestOptions::default(),
        &mut |_: &ConnRecord| {},
        &mut stats,
    )
    .unwrap();
    assert_eq!(stats.files_failed, 1);
}
