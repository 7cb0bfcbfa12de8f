//! The result of analysing one attachment: every file found, the URLs they carry, and typed observations.

use serde::{Deserialize, Serialize};

use crate::types::FileType;

/// Where a file sits: the chain of names from the attachment down (`["invoice.zip", "doc.docm",
/// "vbaProject.bin"]`).
pub type FilePath = Vec<String>;

/// Renders a path the way evidence shows it: `invoice.zip → doc.docm → vbaProject.bin`.
pub fn display_path(path: &[String]) -> String {
    path.join(" → ")
}

/// Everything found in one attachment.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// The attachment and every nested file that was read, in walk order (the attachment first).
    pub files: Vec<FileEntry>,
    /// What was noticed, in walk order.
    pub observations: Vec<Observation>,
    /// URLs found inside the files (not in the message body), de-duplicated, capped by `Limits::max_urls`.
    pub urls: Vec<FoundUrl>,
}

impl Report {
    /// True if an observation of this kind was made.
    pub fn has(&self, kind: ObservationKind) -> bool {
        self.observations.iter().any(|o| o.kind == kind)
    }

    /// The observations of one kind.
    pub fn of(&self, kind: ObservationKind) -> impl Iterator<Item = &Observation> {
        self.observations.iter().filter(move |o| o.kind == kind)
    }
}

/// One file: the attachment itself or something found inside it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileEntry {
    /// Names from the attachment down; the last is this file's own name (or a made-up one like `stream 3`).
    pub path: FilePath,
    /// Nesting depth: 0 for the attachment.
    pub depth: usize,
    /// Size in bytes of what was read (may be cut by a limit, see `truncated`).
    pub size: u64,
    /// True when the content was cut by a limit before hashing.
    pub truncated: bool,
    /// SHA-256, lower-case hex.
    pub sha256: String,
    /// MD5, lower-case hex (for feeds that still use it).
    pub md5: String,
    /// SHA-1, lower-case hex.
    pub sha1: String,
    /// What the content is, by its bytes.
    pub file_type: FileType,
}

impl FileEntry {
    /// The file's own name (last path element).
    pub fn name(&self) -> &str {
        self.path.last().map(String::as_str).unwrap_or("")
    }
}

/// Something noticed about a file, with where and what.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Observation {
    /// What kind of thing.
    pub kind: ObservationKind,
    /// The file it concerns.
    pub path: FilePath,
    /// Nesting depth of that file (0 = the attachment).
    pub depth: usize,
    /// Evidence in a short sentence (values quoted).
    pub detail: String,
}

/// Where a URL inside a file was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UrlSource {
    /// PDF `/URI` action (or `/Launch`/`/SubmitForm` target).
    Pdf,
    /// Office relationship target (hyperlink, template, OLE link).
    OfficeRelationship,
    /// HTML or SVG attachment (`href`, `src`, `action`, meta refresh).
    Html,
    /// Shortcut target or arguments.
    Lnk,
    /// VBA macro or script text.
    Code,
    /// RTF field or object.
    Rtf,
}

/// A URL found inside a file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FoundUrl {
    /// The URL as written (decoded from the file's own escaping).
    pub url: String,
    /// The file it was found in.
    pub path: FilePath,
    /// What kind of reference it was.
    pub source: UrlSource,
}

macro_rules! kinds {
    ($($(#[$doc:meta])* $variant:ident => $id:literal,)*) => {
        /// Kinds of observations. Each has a stable dotted id, which is also the finding id in the catalogue.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum ObservationKind {
            $($(#[$doc])* $variant,)*
        }

        impl ObservationKind {
            /// Every kind, for documentation and tests.
            pub const ALL: &'static [ObservationKind] = &[$(ObservationKind::$variant,)*];

            /// The stable finding id.
            pub fn id(self) -> &'static str {
                match self {
                    $(ObservationKind::$variant => $id,)*
                }
            }
        }
    };
}

kinds! {
    /// Containers nested deeper than `max_depth`.
    LimitDepth => "limit.archive.depth",
    /// More files than `max_files`.
    LimitFiles => "limit.archive.files",
    /// More decompressed bytes than `max_total_bytes`.
    LimitTotalBytes => "limit.archive.total_bytes",
    /// An entry larger than `max_entry_bytes`.
    LimitEntrySize => "limit.archive.entry_size",
    /// An entry whose compression ratio exceeds `max_ratio` (zip bomb).
    LimitRatio => "limit.archive.ratio",
    /// A ZIP, gzip, tar or disk image that could not be read.
    MalformedArchive => "malformed.archive",
    /// An OLE2 or OOXML document that could not be read.
    MalformedOffice => "malformed.office",
    /// A PDF with broken structure (no header, truncated streams).
    MalformedPdf => "malformed.pdf",
    /// A nested file whose content type contradicts its name.
    TypeMismatch => "file.type_mismatch",
    /// A nested native executable (PE, ELF, Mach-O, MSI).
    Executable => "file.executable",
    /// A nested script (js, vbs, wsf, hta, ps1, bat, …) or compiled help (CHM).
    Script => "file.script",
    /// A nested Windows shortcut.
    Shortcut => "file.shortcut",
    /// A nested disk image (ISO, IMG, VHD).
    DiskImage => "file.disk_image",
    /// A nested file name with a dangerous extension after a document extension.
    NameDoubleExtension => "file.name.double_extension",
    /// A nested file name with a bidirectional override.
    NameRlo => "file.name.rlo",
    /// A nested file name padded to hide its extension.
    NamePadding => "file.name.padding",
    /// An archive format that is recognised but cannot be listed here (7z, RAR, CAB, …).
    UnlistedArchive => "file.archive.unlisted",
    /// The EICAR anti-virus test string.
    Eicar => "file.eicar",
    /// An archive with encrypted entries that no known password opened (PPAP).
    EncryptedArchive => "file.archive.encrypted",
    /// An encrypted archive opened with a password found in the message.
    ArchivePasswordOpened => "file.archive.password_opened",
    /// An encrypted Office document (cannot be inspected).
    EncryptedDocument => "file.document.encrypted",
    /// VBA macros.
    VbaMacro => "office.vba.macro",
    /// VBA macros with an auto-exec entry point.
    VbaAutoExec => "office.vba.autoexec",
    /// VBA calls used by droppers (Shell, CreateObject, URLDownloadToFile, PowerShell, …).
    VbaSuspicious => "office.vba.suspicious",
    /// Obfuscated VBA (Chr() chains, StrReverse, long Base64 or hex blobs).
    VbaObfuscation => "office.vba.obfuscation",
    /// VBA p-code without matching source (VBA stomping).
    VbaStomping => "office.vba.stomping",
    /// Excel 4.0 (XLM) macro sheets.
    XlmMacro => "office.xlm_macro",
    /// DDE / DDEAUTO fields or DDE links.
    Dde => "office.dde",
    /// A remote template or other external relationship loaded when the document opens.
    RemoteTemplate => "office.remote_template",
    /// An external hyperlink or link relationship.
    ExternalLink => "office.external_link",
    /// An embedded OLE object.
    EmbeddedObject => "office.embedded_object",
    /// An embedded OLE Package (a file wrapped in a document).
    EmbeddedPackage => "office.embedded_package",
    /// Equation Editor object (CVE-2017-11882 family).
    EquationEditor => "office.equation_editor",
    /// RTF embedded object (`\objdata`).
    RtfObject => "rtf.object",
    /// RTF object set to update on open (`\objupdate`).
    RtfObjupdate => "rtf.objupdate",
    /// PDF JavaScript.
    PdfJavaScript => "pdf.javascript",
    /// PDF action run on open (`/OpenAction`, `/AA`).
    PdfAutoAction => "pdf.auto_action",
    /// PDF `/Launch` action.
    PdfLaunch => "pdf.launch",
    /// PDF embedded file.
    PdfEmbeddedFile => "pdf.embedded_file",
    /// PDF form that submits data (`/SubmitForm`).
    PdfSubmitForm => "pdf.submit_form",
    /// PDF with XFA forms or RichMedia (Flash/3D).
    PdfActiveContent => "pdf.active_content",
    /// Encrypted PDF.
    PdfEncrypted => "pdf.encrypted",
    /// PDF names hex-escaped to hide keywords (`/J#61vaScript`).
    PdfNameObfuscation => "pdf.name_obfuscation",
    /// Shortcut that runs a command interpreter, script host or LOLBin, or fetches a URL.
    LnkCommand => "lnk.command",
    /// HTML that assembles a file in the browser (Blob/atob + download).
    HtmlSmuggling => "html.smuggling",
    /// HTML attachment with a password form.
    HtmlCredentialForm => "html.credential_form",
    /// HTML attachment that redirects (meta refresh, location change).
    HtmlRedirect => "html.redirect",
    /// SVG image with script.
    SvgScript => "svg.script",
    /// OneNote notebook with embedded files.
    OneNoteEmbedded => "onenote.embedded_file",
    /// A rule of the caller's [`crate::ContentScanner`] (YARA) matched.
    RuleMatch => "yara.match",
}
