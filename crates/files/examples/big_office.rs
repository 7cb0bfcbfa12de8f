//! Times the analysis of a 25 MB benign Office document built here (speed target: under 1 s). Run with
//! `cargo run --release -p mamori-files --example big_office`.

use std::io::{Cursor, Write};
use std::time::Instant;

fn main() {
    let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let deflated = zip::write::SimpleFileOptions::default();
    let stored = deflated.compression_method(zip::CompressionMethod::Stored);
    let write = |w: &mut zip::ZipWriter<Cursor<Vec<u8>>>, name: &str, o, data: &[u8]| {
        w.start_file(name, o).expect("entry");
        w.write_all(data).expect("write");
    };
    write(&mut w, "[Content_Types].xml", deflated, b"<Types/>");
    write(&mut w, "word/_rels/document.xml.rels", deflated, br#"<Relationships><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/hyperlink" Target="https://www.example.co.jp/" TargetMode="External"/></Relationships>"#);
    let mut text = String::from("<w:document><w:body>");
    let mut n: u64 = 1;
    while text.len() < 40 << 20 {
        n = n
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        text.push_str(&format!(
            "<w:p><w:r><w:t>見積書 第{n}号 の内容をご確認ください。</w:t></w:r></w:p>"
        ));
    }
    text.push_str("</w:body></w:document>");
    write(&mut w, "word/document.xml", deflated, text.as_bytes());
    // Incompressible images make up the rest of the size.
    let mut image = vec![0u8; 4 << 20];
    for (i, b) in image.iter_mut().enumerate() {
        n = n.wrapping_mul(6364136223846793005).wrapping_add(i as u64);
        *b = (n >> 56) as u8;
    }
    let mut k = 0;
    let mut doc = w.finish().expect("finish").into_inner();
    while doc.len() < 25 << 20 {
        let mut w = zip::ZipWriter::new_append(Cursor::new(doc)).expect("append");
        k += 1;
        write(&mut w, &format!("word/media/image{k}.png"), stored, &image);
        doc = w.finish().expect("finish").into_inner();
    }
    let options = mamori_files::Options::default();
    for _ in 0..3 {
        let start = Instant::now();
        let report = mamori_files::analyse(Some("big.docx"), &doc, &options);
        println!(
            "{:.1} MB document: {} files, {} observations, {} URLs in {:?}",
            doc.len() as f64 / 1e6,
            report.files.len(),
            report.observations.len(),
            report.urls.len(),
            start.elapsed()
        );
    }
}
