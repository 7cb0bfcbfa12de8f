//! YARA-X rules over attachments (feature `yara`): a small built-in rule set plus the user's rules, compiled
//! once per process and shared by every scan.

use std::cell::RefCell;
use std::time::Duration;

use crate::attachments::ScannerFactory;

/// The built-in rules: patterns that are easier to express in YARA than in the parsers.
pub const BUILTIN_RULES: &str = r#"
rule mamori_eicar {
  meta: description = "EICAR anti-virus test file"
  strings: $eicar = "X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"
  condition: $eicar
}
rule mamori_powershell_encoded_command {
  meta: description = "PowerShell started with an encoded command"
  strings: $a = /powershell(\.exe)?["']?\s+(-[a-z]+\s+)*-e(nc|ncodedcommand)?\s+[A-Za-z0-9+\/=]{40,}/ nocase
  condition: $a
}
rule mamori_hta_shell {
  meta: description = "HTA application that reaches a shell"
  strings:
    $hta = "<hta:application" nocase
    $s1 = "WScript.Shell" nocase
    $s2 = "Shell.Application" nocase
  condition: $hta and any of ($s*)
}
rule mamori_script_downloader {
  meta: description = "Script that downloads and saves a file (XMLHTTP + ADODB.Stream)"
  strings:
    $http = "XMLHTTP" nocase
    $stream = "ADODB.Stream" nocase
    $save = "SaveToFile" nocase
  condition: all of them
}
"#;

/// Errors compiling rules.
#[derive(Debug, thiserror::Error)]
pub enum YaraError {
    /// A rule source does not compile.
    #[error("YARA rules {origin}: {message}")]
    Compile {
        /// Which source (file name or "built-in").
        origin: String,
        /// The compiler's message.
        message: String,
    },
}

/// Compiled rules, shared by all scans.
pub struct YaraRules {
    rules: yara_x::Rules,
    count: usize,
}

impl YaraRules {
    /// The built-in rules plus `sources` (origin name, rule text), each source in its own namespace.
    pub fn compile(sources: &[(String, String)]) -> Result<YaraRules, YaraError> {
        let mut compiler = yara_x::Compiler::new();
        compiler
            .add_source(BUILTIN_RULES)
            .map_err(|e| YaraError::Compile {
                origin: "built-in".into(),
                message: e.to_string(),
            })?;
        for (origin, text) in sources {
            let namespace: String = origin
                .chars()
                .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
                .collect();
            compiler.new_namespace(&namespace);
            compiler
                .add_source(text.as_str())
                .map_err(|e| YaraError::Compile {
                    origin: origin.clone(),
                    message: e.to_string(),
                })?;
        }
        let rules = compiler.build();
        let count = rules.iter().count();
        Ok(YaraRules { rules, count })
    }

    /// Number of rules.
    pub fn len(&self) -> usize {
        self.count
    }

    /// True when there are no rules.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }
}

struct YaraScanner<'r> {
    scanner: RefCell<yara_x::Scanner<'r>>,
}

impl mamori_files::ContentScanner for YaraScanner<'_> {
    fn scan(&self, data: &[u8]) -> Vec<String> {
        let Ok(mut scanner) = self.scanner.try_borrow_mut() else {
            return Vec::new();
        };
        match scanner.scan(data) {
            Ok(results) => results
                .matching_rules()
                .map(|r| {
                    if r.namespace() == "default" {
                        r.identifier().to_string()
                    } else {
                        format!("{}:{}", r.namespace(), r.identifier())
                    }
                })
                .collect(),
            Err(_) => Vec::new(),
        }
    }
}

impl ScannerFactory for YaraRules {
    fn scanner(&self) -> Box<dyn mamori_files::ContentScanner + '_> {
        let mut scanner = yara_x::Scanner::new(&self.rules);
        scanner.set_timeout(Duration::from_secs(5));
        Box::new(YaraScanner {
            scanner: RefCell::new(scanner),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_rules_match_eicar_and_user_rules_compile() {
        let rules = YaraRules::compile(&[(
            "user.yar".to_string(),
            "rule marker { strings: $m = \"MAMORI-TEST-MARKER\" condition: $m }".to_string(),
        )])
        .expect("rules compile");
        assert!(rules.len() >= 5);
        let scanner = rules.scanner();
        let eicar = b"X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*";
        assert_eq!(scanner.scan(eicar), vec!["mamori_eicar"]);
        assert_eq!(
            scanner.scan(b"xx MAMORI-TEST-MARKER xx"),
            vec!["user_yar:marker"]
        );
        assert!(scanner.scan(b"harmless").is_empty());
        assert!(YaraRules::compile(&[("bad.yar".into(), "rule {".into())]).is_err());
    }
}
