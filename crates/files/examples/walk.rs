//! Prints the analysis report of each file given on the command line (development aid).

fn main() {
    let options = mamori_files::Options {
        passwords: vec!["infected".into(), "password".into()],
        ..Default::default()
    };
    for arg in std::env::args().skip(1) {
        let Ok(data) = std::fs::read(&arg) else {
            eprintln!("{arg}: unreadable");
            continue;
        };
        let name = std::path::Path::new(&arg)
            .file_name()
            .map(|n| n.to_string_lossy().into_owned());
        let start = std::time::Instant::now();
        let report = mamori_files::analyse(name.as_deref(), &data, &options);
        let ids: Vec<String> = report
            .observations
            .iter()
            .map(|o| {
                format!(
                    "{}[{}]",
                    o.kind.id(),
                    o.detail.chars().take(60).collect::<String>()
                )
            })
            .collect();
        println!(
            "{arg}\t{} files\t{} urls\t{:?}\t{}",
            report.files.len(),
            report.urls.len(),
            start.elapsed(),
            ids.join(" ")
        );
    }
}
