//! Built-in brands that phishing imitates, with the domains they really use. Japanese brands first: they are
//! what lures against Japanese organisations impersonate (cards, banks, carriers, railways, post, tax).

/// A brand and its legitimate registered domains.
#[derive(Debug, Clone, Copy)]
pub struct Brand {
    /// Display name.
    pub name: &'static str,
    /// Registered domains the brand really sends from and links to.
    pub domains: &'static [&'static str],
    /// Names the brand goes by in display names and text (lower case, NFKC), incl. Japanese.
    pub names: &'static [&'static str],
}

/// Well-known brands. Extend through `[organisation] partner_domains` for deployment-specific ones.
pub static BRANDS: &[Brand] = &[
    Brand {
        name: "Amazon",
        domains: &[
            "amazon.co.jp",
            "amazon.com",
            "amazon.jp",
            "amazon.co.uk",
            "amazon.de",
            "amazonaws.com",
            "amazon.fr",
            "amazon.ca",
        ],
        names: &["amazon", "アマゾン"],
    },
    Brand {
        name: "JCB",
        domains: &[
            "jcb.co.jp",
            "jcb.jp",
            "jcb.com",
            "myjcb.co.jp",
            "jcb-card.jp",
        ],
        names: &["jcb"],
    },
    Brand {
        name: "SMBC",
        domains: &[
            "smbc.co.jp",
            "smbc-card.com",
            "vpass.ne.jp",
            "smbc-fs.co.jp",
            "smfg.co.jp",
        ],
        names: &["smbc", "三井住友", "三井住友銀行", "三井住友カード"],
    },
    Brand {
        name: "MUFG",
        domains: &[
            "mufg.jp",
            "bk.mufg.jp",
            "cr.mufg.jp",
            "mufgcard.com",
            "dccard.co.jp",
            "nicos.co.jp",
        ],
        names: &["mufg", "三菱ufj", "三菱ufj銀行"],
    },
    Brand {
        name: "Mizuho",
        domains: &[
            "mizuhobank.co.jp",
            "mizuho-fg.co.jp",
            "mizuho-sc.com",
            "mizuho-tb.co.jp",
        ],
        names: &["mizuho", "みずほ", "みずほ銀行"],
    },
    Brand {
        name: "Rakuten",
        domains: &[
            "rakuten.co.jp",
            "rakuten.com",
            "rakuten-card.co.jp",
            "rakuten-bank.co.jp",
            "rakuten-sec.co.jp",
            "rakuten.ne.jp",
            "rakuten-edy.co.jp",
        ],
        names: &["rakuten", "楽天", "楽天カード"],
    },
    Brand {
        name: "えきねっと (JR East)",
        domains: &["eki-net.com", "jreast.co.jp"],
        names: &["えきねっと", "ekinet", "eki-net"],
    },
    Brand {
        name: "Japan Post",
        domains: &["japanpost.jp", "post.japanpost.jp", "jp-bank.japanpost.jp"],
        names: &[
            "japan post",
            "日本郵便",
            "ゆうちょ",
            "ゆうちょ銀行",
            "郵便局",
        ],
    },
    Brand {
        name: "NTT",
        domains: &[
            "ntt.com",
            "ntt.co.jp",
            "ntt-east.co.jp",
            "ntt-west.co.jp",
            "nttdocomo.co.jp",
            "docomo.ne.jp",
            "ocn.ne.jp",
        ],
        names: &["ntt", "docomo", "ドコモ", "nttドコモ"],
    },
    Brand {
        name: "au (KDDI)",
        domains: &[
            "au.com",
            "kddi.com",
            "au.jp",
            "auone.jp",
            "ezweb.ne.jp",
            "aupay.wallet.auone.jp",
        ],
        names: &["kddi", "au pay", "auじぶん銀行"],
    },
    Brand {
        name: "SoftBank",
        domains: &[
            "softbank.jp",
            "softbank.co.jp",
            "softbank.ne.jp",
            "ymobile.jp",
        ],
        names: &["softbank", "ソフトバンク"],
    },
    Brand {
        name: "Aeon",
        domains: &["aeon.co.jp", "aeonbank.co.jp", "aeon.com", "aeoncard.co.jp"],
        names: &["aeon", "イオン", "イオンカード"],
    },
    Brand {
        name: "Saison",
        domains: &["saisoncard.co.jp", "saison.co.jp"],
        names: &["saison", "セゾン", "セゾンカード"],
    },
    Brand {
        name: "Orico",
        domains: &["orico.co.jp"],
        names: &["orico", "オリコ"],
    },
    Brand {
        name: "View Card",
        domains: &["viewcard.co.jp"],
        names: &["viewcard", "ビューカード"],
    },
    Brand {
        name: "ETC",
        domains: &["etc-meisai.jp", "go-etc.jp"],
        names: &["etc利用照会", "etcマイレージ"],
    },
    Brand {
        name: "Yahoo! JAPAN",
        domains: &["yahoo.co.jp", "yahoo.com"],
        names: &["yahoo", "ヤフー"],
    },
    Brand {
        name: "LINE",
        domains: &["line.me", "linecorp.com", "line.naver.jp"],
        names: &["line"],
    },
    Brand {
        name: "Mercari",
        domains: &["mercari.com", "mercari.jp"],
        names: &["mercari", "メルカリ"],
    },
    Brand {
        name: "PayPay",
        domains: &["paypay.ne.jp", "paypay-bank.co.jp", "paypay-card.co.jp"],
        names: &["paypay"],
    },
    Brand {
        name: "Sagawa",
        domains: &["sagawa-exp.co.jp"],
        names: &["sagawa", "佐川", "佐川急便"],
    },
    Brand {
        name: "Yamato",
        domains: &["kuronekoyamato.co.jp", "yamato-hd.co.jp"],
        names: &["yamato", "ヤマト運輸", "クロネコ"],
    },
    Brand {
        name: "National Tax Agency",
        domains: &["nta.go.jp", "e-tax.nta.go.jp"],
        names: &["国税庁", "e-tax"],
    },
    Brand {
        name: "PayPal",
        domains: &["paypal.com", "paypal.jp", "paypal.me", "paypalobjects.com"],
        names: &["paypal", "ペイパル"],
    },
    Brand {
        name: "Apple",
        domains: &["apple.com", "icloud.com", "me.com", "apple.co.jp"],
        names: &["apple", "icloud", "アップル"],
    },
    Brand {
        name: "Microsoft",
        domains: &[
            "microsoft.com",
            "office.com",
            "live.com",
            "outlook.com",
            "hotmail.com",
            "microsoftonline.com",
            "office365.com",
            "sharepoint.com",
            "onedrive.com",
            "msn.com",
        ],
        names: &[
            "microsoft",
            "office 365",
            "outlook",
            "onedrive",
            "sharepoint",
            "マイクロソフト",
        ],
    },
    Brand {
        name: "Google",
        domains: &[
            "google.com",
            "gmail.com",
            "google.co.jp",
            "googlemail.com",
            "youtube.com",
        ],
        names: &["google", "gmail"],
    },
    Brand {
        name: "DHL",
        domains: &["dhl.com", "dhl.co.jp", "dhl.de"],
        names: &["dhl"],
    },
    Brand {
        name: "FedEx",
        domains: &["fedex.com"],
        names: &["fedex"],
    },
    Brand {
        name: "Netflix",
        domains: &["netflix.com"],
        names: &["netflix", "ネットフリックス"],
    },
    Brand {
        name: "DocuSign",
        domains: &["docusign.com", "docusign.net"],
        names: &["docusign"],
    },
    Brand {
        name: "Visa",
        domains: &["visa.com", "visa.co.jp"],
        names: &["visa"],
    },
    Brand {
        name: "Mastercard",
        domains: &["mastercard.com", "mastercard.co.jp"],
        names: &["mastercard"],
    },
    Brand {
        name: "American Express",
        domains: &["americanexpress.com", "aexp.com", "americanexpress.co.jp"],
        names: &["american express", "amex", "アメックス"],
    },
    Brand {
        name: "eBay",
        domains: &["ebay.com", "ebay.co.jp"],
        names: &["ebay"],
    },
    Brand {
        name: "Wells Fargo",
        domains: &["wellsfargo.com"],
        names: &["wells fargo"],
    },
    Brand {
        name: "Bank of America",
        domains: &["bankofamerica.com", "bofa.com"],
        names: &["bank of america"],
    },
    Brand {
        name: "Chase",
        domains: &["chase.com", "jpmorganchase.com"],
        names: &["chase"],
    },
    Brand {
        name: "Citibank",
        domains: &["citibank.com", "citi.com", "citibank.co.jp"],
        names: &["citibank"],
    },
];

/// Free-mail providers: an official sender does not take replies there.
pub static FREEMAIL_DOMAINS: &[&str] = &[
    "gmail.com",
    "googlemail.com",
    "yahoo.com",
    "yahoo.co.jp",
    "ymail.com",
    "outlook.com",
    "outlook.jp",
    "hotmail.com",
    "hotmail.co.jp",
    "live.com",
    "live.jp",
    "msn.com",
    "aol.com",
    "icloud.com",
    "me.com",
    "mac.com",
    "mail.com",
    "gmx.com",
    "gmx.net",
    "gmx.de",
    "web.de",
    "yandex.ru",
    "yandex.com",
    "mail.ru",
    "protonmail.com",
    "proton.me",
    "tutanota.com",
    "zoho.com",
    "qq.com",
    "163.com",
    "126.com",
    "sina.com",
    "naver.com",
    "daum.net",
    "hanmail.net",
    "docomo.ne.jp",
    "ezweb.ne.jp",
    "au.com",
    "softbank.ne.jp",
    "i.softbank.jp",
    "excite.co.jp",
    "nifty.com",
    "biglobe.ne.jp",
    "ocn.ne.jp",
    "so-net.ne.jp",
    "goo.jp",
    "infoseek.jp",
    "rakuten.jp",
    "inbox.ru",
    "rediffmail.com",
];

/// True when `domain` (lower-case registered domain) is a free-mail provider.
pub fn is_freemail(domain: &str) -> bool {
    FREEMAIL_DOMAINS.contains(&domain)
}
