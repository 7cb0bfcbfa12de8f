//! Finding ids of attachment and link analysis (issue 8): containers and their limits, PPAP, Office, RTF, PDF,
//! shortcuts, HTML smuggling, OneNote, names inside archives, YARA, and the extra link checks.

use super::FindingSpec;
use crate::finding::Category::{Anomaly, Malware, Phishing};
use crate::finding::Severity::{Critical, High, Info, Low, Medium};

/// Ids declared by attachment and link analysis.
pub static SPECS: &[FindingSpec] = &[
    super::finding_spec!(
        "limit.archive.depth",
        Anomaly,
        High,
        3.0,
        ["T1027"],
        "Containers nested over the limit",
        "Archives or embedded documents nested deeper than `attachments.limits.max_depth` (42.zip-style nesting); the inner ones were not opened."
    ),
    super::finding_spec!(
        "limit.archive.files",
        Anomaly,
        Medium,
        2.0,
        ["T1027"],
        "Too many files in an attachment",
        "An attachment holds more files than `attachments.limits.max_files`; the rest were not analysed."
    ),
    super::finding_spec!(
        "limit.archive.total_bytes",
        Anomaly,
        Medium,
        2.0,
        ["T1027"],
        "Decompressed size over the limit",
        "Unpacking an attachment exceeded `attachments.limits.max_total_bytes`; the rest was not opened."
    ),
    super::finding_spec!(
        "limit.archive.entry_size",
        Anomaly,
        Medium,
        2.0,
        ["T1027"],
        "Archive entry over the size limit",
        "An entry declares or inflates to more than `attachments.limits.max_entry_bytes`; it was not analysed."
    ),
    super::finding_spec!(
        "limit.archive.ratio",
        Anomaly,
        High,
        4.0,
        ["T1027"],
        "Zip bomb",
        "An entry expands more than `attachments.limits.max_ratio` times its compressed size; it was not unpacked."
    ),
    super::finding_spec!(
        "malformed.archive",
        Anomaly,
        Low,
        1.0,
        [],
        "Corrupt archive or container",
        "A ZIP, gzip, tar, disk image or shortcut could not be read as its type says."
    ),
    super::finding_spec!(
        "malformed.office",
        Anomaly,
        Medium,
        1.5,
        [],
        "Corrupt Office document",
        "An OLE2 or OOXML document (or its VBA project) could not be read; broken structure also defeats scanners."
    ),
    super::finding_spec!(
        "malformed.pdf",
        Anomaly,
        Low,
        1.0,
        [],
        "Corrupt PDF",
        "A PDF without header, with truncated streams or without an end marker."
    ),
    super::finding_spec!(
        "file.type_mismatch",
        Malware,
        Medium,
        2.0,
        ["T1036.008"],
        "File inside an attachment is not what its name says",
        "A nested file's content (by magic bytes) contradicts its extension, e.g. an executable named .pdf."
    ),
    super::finding_spec!(
        "file.executable",
        Malware,
        Critical,
        6.0,
        ["T1204.002"],
        "Executable inside an attachment",
        "A PE, ELF, Mach-O or MSI file inside an archive, disk image or document."
    ),
    super::finding_spec!(
        "file.script",
        Malware,
        High,
        5.0,
        ["T1204.002", "T1059"],
        "Script inside an attachment",
        "A js/jse/vbs/vbe/wsf/hta/ps1/bat/cmd script or CHM inside an archive, disk image or document."
    ),
    super::finding_spec!(
        "file.shortcut",
        Malware,
        High,
        5.0,
        ["T1204.002"],
        "Shortcut inside an attachment",
        "A Windows shortcut (LNK) inside an archive, disk image or document."
    ),
    super::finding_spec!(
        "file.disk_image",
        Malware,
        High,
        4.0,
        ["T1553.005"],
        "Disk image inside an attachment",
        "An ISO/IMG/VHD inside an archive: disk images strip the Mark-of-the-Web from what they carry."
    ),
    super::finding_spec!(
        "file.name.double_extension",
        Malware,
        High,
        4.0,
        ["T1036.007"],
        "Double extension inside an attachment",
        "A nested file named like a document but ending in a dangerous extension (請求書.pdf.exe)."
    ),
    super::finding_spec!(
        "file.name.rlo",
        Malware,
        Critical,
        6.0,
        ["T1036.002"],
        "Right-to-left override in a nested name",
        "A nested file name contains a bidirectional override (U+202E/U+202D) that reverses its displayed extension."
    ),
    super::finding_spec!(
        "file.name.padding",
        Malware,
        High,
        3.0,
        ["T1036"],
        "Padded nested name",
        "A nested file name hides its real extension behind a long run of spaces or dots."
    ),
    super::finding_spec!(
        "file.archive.unlisted",
        Anomaly,
        Info,
        0.3,
        [],
        "Archive not listed",
        "A 7z, RAR, CAB, xz or bzip2 archive: recognised, but its entries are not inspected."
    ),
    super::finding_spec!(
        "file.eicar",
        Malware,
        Critical,
        10.0,
        [],
        "EICAR test file",
        "The EICAR anti-virus test string: a test of the defences, treated as malware."
    ),
    super::finding_spec!(
        "file.archive.encrypted",
        Malware,
        Medium,
        2.5,
        ["T1027.013"],
        "Encrypted archive (PPAP)",
        "An archive with encrypted entries that no password from the message opened: its content cannot be inspected (PPAP, abused by Emotet)."
    ),
    super::finding_spec!(
        "file.archive.password_opened",
        Anomaly,
        Info,
        0.5,
        ["T1027.013"],
        "Encrypted archive opened with the password in the body",
        "An encrypted archive was opened with a password written in the message itself (PPAP); its content was inspected."
    ),
    super::finding_spec!(
        "file.document.encrypted",
        Malware,
        Medium,
        2.0,
        ["T1027.013"],
        "Encrypted Office document",
        "A password-protected Office document: macros and objects inside cannot be inspected."
    ),
    super::finding_spec!(
        "office.vba.macro",
        Malware,
        Medium,
        2.0,
        ["T1059.005"],
        "VBA macros",
        "An Office document (or an embedded one) carries a VBA project."
    ),
    super::finding_spec!(
        "office.vba.autoexec",
        Malware,
        High,
        4.0,
        ["T1204.002", "T1059.005"],
        "Macro runs on open",
        "VBA with an auto-exec entry point (AutoOpen, Document_Open, Workbook_Open, Auto_Close, ActiveX events …)."
    ),
    super::finding_spec!(
        "office.vba.suspicious",
        Malware,
        High,
        3.0,
        ["T1059.005", "T1105"],
        "Macro calls used by droppers",
        "VBA that starts programs or downloads (Shell, CreateObject, WScript.Shell, URLDownloadToFile, PowerShell, ADODB.Stream …)."
    ),
    super::finding_spec!(
        "office.vba.obfuscation",
        Malware,
        Medium,
        2.0,
        ["T1027.010"],
        "Obfuscated macro",
        "VBA with long Chr() chains, StrReverse, many string concatenations or Base64 blobs."
    ),
    super::finding_spec!(
        "office.vba.stomping",
        Malware,
        High,
        4.0,
        ["T1564.007"],
        "VBA stomping",
        "The compiled p-code names calls the visible VBA source lacks, or p-code exists with no source: the source was replaced to evade scanners."
    ),
    super::finding_spec!(
        "office.xlm_macro",
        Malware,
        High,
        4.0,
        ["T1059", "T1204.002"],
        "Excel 4.0 (XLM) macros",
        "A workbook with Excel 4.0 macro sheets (often hidden) or an Auto_Open name."
    ),
    super::finding_spec!(
        "office.dde",
        Malware,
        High,
        4.0,
        ["T1559.002"],
        "DDE command",
        "A DDE/DDEAUTO field, DDE link or DDE formula that runs a command when the document opens."
    ),
    super::finding_spec!(
        "office.remote_template",
        Malware,
        High,
        4.0,
        ["T1221"],
        "Remote template or object",
        "An external relationship loaded on open (attachedTemplate, oleObject, frame, subDocument): template injection."
    ),
    super::finding_spec!(
        "office.external_link",
        Anomaly,
        Info,
        0.3,
        [],
        "External link in a document",
        "A hyperlink or other external relationship in an Office document (its URL is analysed with the links)."
    ),
    super::finding_spec!(
        "office.embedded_object",
        Anomaly,
        Low,
        0.5,
        ["T1027.009"],
        "Embedded OLE object",
        "A document embeds an OLE object (its content is analysed too)."
    ),
    super::finding_spec!(
        "office.embedded_package",
        Malware,
        Medium,
        2.5,
        ["T1204.002", "T1027.009"],
        "File packaged in a document",
        "An OLE Package wraps a file (script, shortcut, executable …) in a document for the reader to double-click."
    ),
    super::finding_spec!(
        "office.equation_editor",
        Malware,
        Critical,
        6.0,
        ["T1203"],
        "Equation Editor object",
        "An Equation Editor 3.0 object (Equation.3 / CLSID 0002CE02): the CVE-2017-11882 exploit family."
    ),
    super::finding_spec!(
        "rtf.object",
        Anomaly,
        Low,
        1.0,
        ["T1027.009"],
        "RTF embedded object",
        "An RTF document with `\\objdata` objects (decoded and analysed)."
    ),
    super::finding_spec!(
        "rtf.objupdate",
        Malware,
        High,
        3.5,
        ["T1203"],
        "RTF object updated on open",
        "`\\objupdate` makes Word load the embedded object when the document opens, a staple of RTF exploits."
    ),
    super::finding_spec!(
        "pdf.javascript",
        Malware,
        Medium,
        2.5,
        ["T1059.007"],
        "PDF JavaScript",
        "A PDF with /JS or /JavaScript."
    ),
    super::finding_spec!(
        "pdf.auto_action",
        Malware,
        Medium,
        1.5,
        ["T1204.002"],
        "PDF action on open",
        "A PDF with /OpenAction or /AA (additional actions)."
    ),
    super::finding_spec!(
        "pdf.launch",
        Malware,
        High,
        4.0,
        ["T1204.002", "T1059"],
        "PDF launch action",
        "A PDF /Launch action that starts a program."
    ),
    super::finding_spec!(
        "pdf.embedded_file",
        Malware,
        Medium,
        2.0,
        ["T1027.009"],
        "File embedded in a PDF",
        "A PDF with /EmbeddedFile streams."
    ),
    super::finding_spec!(
        "pdf.submit_form",
        Phishing,
        Medium,
        2.0,
        [],
        "PDF form that submits data",
        "A PDF /SubmitForm action: a form that sends what the reader types to a server."
    ),
    super::finding_spec!(
        "pdf.active_content",
        Malware,
        Medium,
        1.5,
        ["T1203"],
        "PDF XFA or RichMedia",
        "A PDF with XFA forms or RichMedia (Flash/3D), historical exploit surfaces."
    ),
    super::finding_spec!(
        "pdf.encrypted",
        Anomaly,
        Low,
        0.5,
        ["T1027.013"],
        "Encrypted PDF",
        "A PDF with /Encrypt: strings and streams cannot be read without the key."
    ),
    super::finding_spec!(
        "pdf.name_obfuscation",
        Malware,
        High,
        3.0,
        ["T1027"],
        "Hex-escaped PDF names",
        "PDF names written with #xx escapes (/J#61vaScript) to hide keywords from scanners."
    ),
    super::finding_spec!(
        "lnk.command",
        Malware,
        Critical,
        6.0,
        ["T1204.002", "T1059"],
        "Shortcut runs a command",
        "A shortcut whose target or arguments start cmd, PowerShell, mshta, script hosts or other LOLBins, or fetch a URL."
    ),
    super::finding_spec!(
        "html.smuggling",
        Malware,
        Critical,
        6.0,
        ["T1027.006"],
        "HTML smuggling",
        "An HTML/SVG/script attachment builds a file in the browser (Blob/atob) and saves it (msSaveOrOpenBlob, download)."
    ),
    super::finding_spec!(
        "html.credential_form",
        Phishing,
        High,
        4.0,
        ["T1566.001"],
        "Credential form in an attachment",
        "An attached HTML page with a password field: local phishing pages evade URL filters."
    ),
    super::finding_spec!(
        "html.redirect",
        Phishing,
        Medium,
        2.0,
        ["T1566.001"],
        "Redirecting HTML attachment",
        "An attached HTML page that redirects the browser (meta refresh, location)."
    ),
    super::finding_spec!(
        "svg.script",
        Malware,
        High,
        4.0,
        ["T1059.007", "T1027.006"],
        "SVG with script",
        "An SVG image carrying script, event handlers or embedded HTML."
    ),
    super::finding_spec!(
        "onenote.embedded_file",
        Malware,
        High,
        3.5,
        ["T1204.002", "T1027.009"],
        "OneNote with embedded files",
        "A OneNote section with embedded files (hta, cmd, lnk, exe lures behind a 'double-click' picture)."
    ),
    super::finding_spec!(
        "yara.match",
        Malware,
        High,
        5.0,
        [],
        "YARA rule match",
        "An attachment or a file inside it matches a YARA rule (built-in or from `--rules`)."
    ),
    super::finding_spec!(
        "ppap.password_notice",
        Anomaly,
        Info,
        0.5,
        ["T1027.013"],
        "Password-only follow-up message",
        "The message announces the password of an archive sent separately (the second half of PPAP)."
    ),
    super::finding_spec!(
        "link.shortener",
        Phishing,
        Low,
        1.0,
        ["T1566.002"],
        "Shortened link",
        "A link through a URL shortener hides its destination."
    ),
    super::finding_spec!(
        "link.data_uri",
        Phishing,
        High,
        3.0,
        ["T1566.002", "T1027.006"],
        "data: URI link",
        "A link or form target that is a data: URI: the page or file is carried in the link itself."
    ),
    super::finding_spec!(
        "link.javascript_uri",
        Malware,
        High,
        3.0,
        ["T1059.007"],
        "javascript: URI link",
        "A link whose target is script."
    ),
    super::finding_spec!(
        "link.dangerous_download",
        Malware,
        High,
        4.0,
        ["T1204.001", "T1566.002"],
        "Link to a dangerous file",
        "A link to an executable, script, shortcut, disk image or macro document download."
    ),
    super::finding_spec!(
        "link.credential_path",
        Phishing,
        Info,
        0.5,
        ["T1566.002"],
        "Link to a sign-in page",
        "A link whose path reads like a sign-in or account verification page."
    ),
];
