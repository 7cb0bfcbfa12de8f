//! Synthetic Zeek `conn.log` generator: a day of realistic background traffic (diurnal load, bursty web browsing
//! to a Zipf-popular set of sites, DNS to an internal resolver, internal SMB, a shared hourly update check, a
//! long tail of rarely visited hosts) with planted beacons (interval, jitter 0–50 %, missed-beat rate, size
//! variation) and exfiltration transfers. Output is Zeek TSV, written in time order, streamed one minute at a time
//! so memory stays small whatever the record count.
//!
//! The random generator is a fixed SplitMix64/xoshiro256** so a seed gives the same log on every platform and
//! version (library RNGs do not promise value stability).

use std::io::{self, Write};
use std::net::{IpAddr, Ipv4Addr};

/// Deterministic RNG (xoshiro256**, seeded by SplitMix64).
#[derive(Debug, Clone)]
pub struct Rng([u64; 4]);

impl Rng {
    /// Seeded generator.
    pub fn new(seed: u64) -> Self {
        let mut sm = seed;
        let mut next = || {
            sm = sm.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = sm;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^ (z >> 31)
        };
        Self([next(), next(), next(), next()])
    }

    /// Next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        let s = &mut self.0;
        let result = s[1].wrapping_mul(5).rotate_left(7).wrapping_mul(9);
        let t = s[1] << 17;
        s[2] ^= s[0];
        s[3] ^= s[1];
        s[1] ^= s[2];
        s[0] ^= s[3];
        s[2] ^= t;
        s[3] = s[3].rotate_left(45);
        result
    }

    /// Uniform in [0, 1).
    pub fn f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Uniform in [lo, hi).
    pub fn range(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.f64()
    }

    /// Uniform integer in [0, n).
    pub fn below(&mut self, n: u64) -> u64 {
        if n == 0 { 0 } else { self.next_u64() % n }
    }

    /// Standard normal (Box–Muller).
    pub fn normal(&mut self) -> f64 {
        let u1 = self.f64().max(1e-300);
        let u2 = self.f64();
        (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    }

    /// Exponential with the given mean.
    pub fn exp(&mut self, mean: f64) -> f64 {
        -mean * (1.0 - self.f64()).ln()
    }
}

/// A beacon to plant.
#[derive(Debug, Clone, PartialEq)]
pub struct PlantedBeacon {
    /// Infected internal host.
    pub src: IpAddr,
    /// C2 server.
    pub dst: IpAddr,
    /// C2 port.
    pub port: u16,
    /// Zeek service (`ssl`, `http`, or empty for raw TCP).
    pub service: &'static str,
    /// Mean interval (s).
    pub interval_secs: f64,
    /// Each interval is `interval × (1 + U(−jitter, +jitter))`; 0–0.5.
    pub jitter: f64,
    /// Probability that a beat is skipped.
    pub miss_rate: f64,
    /// Mean bytes sent per beat.
    pub bytes_out: u64,
    /// Sizes vary by `U(−v, +v)` around the mean.
    pub size_variation: f64,
}

/// An exfiltration to plant: `chunks` uploads of `chunk_bytes`, evenly spread over the day.
#[derive(Debug, Clone, PartialEq)]
pub struct PlantedExfil {
    /// Source host.
    pub src: IpAddr,
    /// Drop site.
    pub dst: IpAddr,
    /// Port.
    pub port: u16,
    /// Number of uploads.
    pub chunks: u32,
    /// Bytes per upload.
    pub chunk_bytes: u64,
}

/// Generator settings.
#[derive(Debug, Clone, PartialEq)]
pub struct SynthConfig {
    /// RNG seed.
    pub seed: u64,
    /// Start of the day (s since epoch).
    pub start_ts: f64,
    /// Length of the capture (s).
    pub duration_secs: f64,
    /// Internal hosts (10.0.0.0/16).
    pub internal_hosts: u32,
    /// Approximate number of background records.
    pub background_records: u64,
    /// Distinct popular external destinations.
    pub popular_destinations: u32,
    /// Beacons to plant.
    pub beacons: Vec<PlantedBeacon>,
    /// Exfiltrations to plant.
    pub exfil: Vec<PlantedExfil>,
}

impl Default for SynthConfig {
    fn default() -> Self {
        Self {
            seed: 1,
            start_ts: 1_700_000_000.0,
            duration_secs: 86_400.0,
            internal_hosts: 250,
            background_records: 1_000_000,
            popular_destinations: 5_000,
            beacons: Vec::new(),
            exfil: Vec::new(),
        }
    }
}

/// Internal host number `i` (10.0.x.y; 10.0.0.1 is the DNS resolver, 10.0.0.2 the file server).
pub fn internal_host(i: u32) -> IpAddr {
    let n = i + 10;
    IpAddr::V4(Ipv4Addr::new(10, 0, (n >> 8) as u8, (n & 0xff) as u8))
}

/// Address of planted C2 / drop site `i` (198.18.0.0/15, the benchmarking range, never used by background).
pub fn planted_destination(i: u32) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(
        198,
        18 + ((i >> 16) & 1) as u8,
        (i >> 8) as u8,
        (i & 0xff) as u8,
    ))
}

fn popular_destination(i: u32) -> IpAddr {
    // Spread over 23.0.0.0/8 and 104.16.0.0/12 (public, and disjoint from internal and planted ranges).
    let h = i.wrapping_mul(2_654_435_761);
    if i.is_multiple_of(2) {
        IpAddr::V4(Ipv4Addr::new(
            23,
            (h >> 16) as u8,
            (h >> 8) as u8,
            (h as u8).max(1),
        ))
    } else {
        IpAddr::V4(Ipv4Addr::new(
            104,
            16 + ((h >> 20) & 15) as u8,
            (h >> 8) as u8,
            (h as u8).max(1),
        ))
    }
}

const RESOLVER: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 1);
const FILE_SERVER: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 2);
const UPDATE_SERVER: Ipv4Addr = Ipv4Addr::new(23, 55, 1, 10);

/// One connection to write.
#[derive(Debug, Clone, Copy)]
struct Conn {
    ts: f64,
    src: IpAddr,
    sport: u16,
    dst: IpAddr,
    dport: u16,
    proto: &'static str,
    service: &'static str,
    duration: f64,
    out: u64,
    inb: u64,
}

/// The timetable of one planted beacon or exfiltration.
fn planted_events(cfg: &SynthConfig, rng: &mut Rng) -> Vec<Conn> {
    let end = cfg.start_ts + cfg.duration_secs;
    let mut out = Vec::new();
    for b in &cfg.beacons {
        let mut t = cfg.start_ts + rng.range(0.0, b.interval_secs);
        while t < end {
            if rng.f64() >= b.miss_rate {
                let size = (b.bytes_out as f64
                    * (1.0 + rng.range(-b.size_variation, b.size_variation)))
                .max(1.0);
                out.push(Conn {
                    ts: t,
                    src: b.src,
                    sport: 49152 + rng.below(16_000) as u16,
                    dst: b.dst,
                    dport: b.port,
                    proto: "tcp",
                    service: b.service,
                    duration: rng.range(0.05, 1.5),
                    out: size as u64,
                    inb: 150 + rng.below(400),
                });
            }
            t += (b.interval_secs * (1.0 + rng.range(-b.jitter, b.jitter))).max(0.5);
        }
    }
    for x in &cfg.exfil {
        let step = cfg.duration_secs / f64::from(x.chunks.max(1));
        for c in 0..x.chunks {
            out.push(Conn {
                ts: cfg.start_ts + step * (f64::from(c) + rng.range(0.1, 0.9)),
                src: x.src,
                sport: 49152 + rng.below(16_000) as u16,
                dst: x.dst,
                dport: x.port,
                proto: "tcp",
                service: "ssl",
                duration: x.chunk_bytes as f64 / 2e6,
                out: x.chunk_bytes,
                inb: 4_000 + rng.below(4_000),
            });
        }
    }
    out.sort_by(|a, b| a.ts.total_cmp(&b.ts));
    out
}

/// Cumulative Zipf(1.1) weights for destination popularity.
fn zipf_cdf(n: u32) -> Vec<f64> {
    let mut acc = 0.0;
    let mut cdf: Vec<f64> = (1..=n.max(1))
        .map(|k| {
            acc += 1.0 / f64::from(k).powf(1.1);
            acc
        })
        .collect();
    for v in &mut cdf {
        *v /= acc;
    }
    cdf
}

/// Relative load at a time of day: quiet nights, busy office hours.
fn diurnal(t: f64) -> f64 {
    let hour = (t / 3600.0).rem_euclid(24.0);
    let office = ((hour - 7.0) / 12.0 * std::f64::consts::PI).sin().max(0.0);
    0.15 + office
}

/// Write the synthetic log; returns the number of records written.
pub fn write_conn_log(cfg: &SynthConfig, out: &mut dyn Write) -> io::Result<u64> {
    let mut rng = Rng::new(cfg.seed);
    let planted = planted_events(cfg, &mut rng);
    let cdf = zipf_cdf(cfg.popular_destinations);
    writeln!(
        out,
        "#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n#path\tconn"
    )?;
    writeln!(out, "#open\tsynthetic-{}", cfg.seed)?;
    writeln!(
        out,
        "#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tservice\tduration\torig_bytes\tresp_bytes\tconn_state\tlocal_orig\tlocal_resp\tmissed_bytes\thistory\torig_pkts\torig_ip_bytes\tresp_pkts\tresp_ip_bytes\ttunnel_parents"
    )?;
    writeln!(
        out,
        "#types\ttime\tstring\taddr\tport\taddr\tport\tenum\tstring\tinterval\tcount\tcount\tstring\tbool\tbool\tcount\tstring\tcount\tcount\tcount\tcount\tset[string]"
    )?;
    // Expected load per minute from the diurnal curve, normalised to the requested total.
    let minutes = (cfg.duration_secs / 60.0).ceil().max(1.0) as u64;
    let total_weight: f64 = (0..minutes)
        .map(|m| diurnal(cfg.start_ts + m as f64 * 60.0))
        .sum();
    let per_weight = cfg.background_records as f64 / total_weight.max(1e-9);
    let mut planted_idx = 0;
    let mut written = 0u64;
    let mut uid = 0u64;
    let mut line = String::with_capacity(256);
    let mut slice: Vec<Conn> = Vec::new();
    let mut carry = 0.0;
    for m in 0..minutes {
        let t0 = cfg.start_ts + m as f64 * 60.0;
        let t1 = (t0 + 60.0).min(cfg.start_ts + cfg.duration_secs);
        slice.clear();
        let want = diurnal(t0) * per_weight + carry;
        let n = want.floor() as u64;
        carry = want - n as f64;
        let mut made = 0;
        while made < n {
            made += background_burst(cfg, &cdf, &mut rng, t0, t1, n - made, &mut slice);
        }
        // Hourly update check from every host, a few seconds apart (a benign, widely shared "beacon").
        if (t0 - cfg.start_ts) % 3600.0 < 60.0 {
            for h in 0..cfg.internal_hosts {
                slice.push(Conn {
                    ts: t0 + rng.range(0.0, 59.0),
                    src: internal_host(h),
                    sport: 49152 + rng.below(16_000) as u16,
                    dst: IpAddr::V4(UPDATE_SERVER),
                    dport: 443,
                    proto: "tcp",
                    service: "ssl",
                    duration: rng.range(0.2, 0.6),
                    out: 700 + rng.below(60),
                    inb: 5_000 + rng.below(300),
                });
            }
        }
        while planted_idx < planted.len() && planted[planted_idx].ts < t1 {
            slice.push(planted[planted_idx]);
            planted_idx += 1;
        }
        slice.sort_by(|a, b| a.ts.total_cmp(&b.ts));
        for c in &slice {
            uid += 1;
            format_line(&mut line, c, uid);
            out.write_all(line.as_bytes())?;
            written += 1;
        }
    }
    writeln!(out, "#close\tsynthetic")?;
    Ok(written)
}

/// One burst of background activity (a page load, a DNS lookup, a file share access …); returns records made.
fn background_burst(
    cfg: &SynthConfig,
    cdf: &[f64],
    rng: &mut Rng,
    t0: f64,
    t1: f64,
    budget: u64,
    slice: &mut Vec<Conn>,
) -> u64 {
    let src = internal_host(rng.below(u64::from(cfg.internal_hosts.max(1))) as u32);
    let ts = rng.range(t0, t1);
    let roll = rng.f64();
    let conn = |dst: IpAddr,
                dport: u16,
                proto: &'static str,
                service: &'static str,
                rng: &mut Rng,
                ts: f64| Conn {
        ts,
        src,
        sport: 49152 + rng.below(16_000) as u16,
        dst,
        dport,
        proto,
        service,
        duration: rng.exp(4.0),
        out: (rng.normal() * 1.0 + 6.5).exp() as u64,
        inb: (rng.normal() * 1.6 + 9.0).exp() as u64,
    };
    if roll < 0.30 {
        // DNS lookup to the internal resolver.
        let mut c = conn(IpAddr::V4(RESOLVER), 53, "udp", "dns", rng, ts);
        c.duration = rng.range(0.001, 0.05);
        c.out = 30 + rng.below(40);
        c.inb = 60 + rng.below(200);
        slice.push(c);
        return 1;
    }
    if roll < 0.34 {
        slice.push(conn(IpAddr::V4(FILE_SERVER), 445, "tcp", "smb", rng, ts));
        return 1;
    }
    if roll < 0.38 {
        // Long tail: a site nobody else visits.
        let dst = IpAddr::V4(Ipv4Addr::new(
            45,
            rng.below(256) as u8,
            rng.below(256) as u8,
            1 + rng.below(254) as u8,
        ));
        slice.push(conn(dst, 443, "tcp", "ssl", rng, ts));
        return 1;
    }
    // A page load: several connections to a few popular sites within seconds.
    let burst = (1 + rng.below(8)).min(budget.max(1));
    let u = rng.f64();
    let site = cdf.partition_point(|&c| c < u) as u32;
    for i in 0..burst {
        let dst = if i == 0 || rng.f64() < 0.5 {
            popular_destination(site)
        } else {
            popular_destination(cdf.partition_point(|&c| c < rng.f64()) as u32)
        };
        let (port, service) = if rng.f64() < 0.8 {
            (443, "ssl")
        } else {
            (80, "http")
        };
        let t = (ts + rng.exp(1.5)).min(t1 - 1e-3);
        slice.push(conn(dst, port, "tcp", service, rng, t));
    }
    burst
}

fn format_line(line: &mut String, c: &Conn, uid: u64) {
    use std::fmt::Write as _;
    line.clear();
    let service = if c.service.is_empty() { "-" } else { c.service };
    let state = if c.proto == "udp" {
        "SF"
    } else if c.out == 0 {
        "S0"
    } else {
        "SF"
    };
    let pkts_out = 2 + c.out / 1400;
    let pkts_in = 2 + c.inb / 1400;
    let _ = writeln!(
        line,
        "{:.6}\tC{:017x}\t{}\t{}\t{}\t{}\t{}\t{}\t{:.6}\t{}\t{}\t{}\tT\tF\t0\tShADadFf\t{}\t{}\t{}\t{}\t(empty)",
        c.ts,
        uid,
        c.src,
        c.sport,
        c.dst,
        c.dport,
        c.proto,
        service,
        c.duration,
        c.out,
        c.inb,
        state,
        pkts_out,
        c.out + 40 * pkts_out,
        pkts_in,
        c.inb + 40 * pkts_in,
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deterministic_and_sorted() {
        let cfg = SynthConfig {
            background_records: 5_000,
            duration_secs: 3_600.0,
            ..SynthConfig::default()
        };
        let mut a = Vec::new();
        let mut b = Vec::new();
        let n = write_conn_log(&cfg, &mut a).unwrap();
        write_conn_log(&cfg, &mut b).unwrap();
        assert_eq!(a, b);
        assert!((4_900..5_600).contains(&n), "{n}");
        let text = String::from_utf8(a).unwrap();
        let ts: Vec<f64> = text
            .lines()
            .filter(|l| !l.starts_with('#'))
            .map(|l| l.split('\t').next().unwrap().parse().unwrap())
            .collect();
        assert!(ts.windows(2).all(|w| w[0] <= w[1]));
        assert!(
            text.lines()
                .filter(|l| !l.starts_with('#'))
                .all(|l| l.split('\t').count() == 21)
        );
    }

    #[test]
    fn beacon_plan_respects_interval_and_misses() {
        let b = PlantedBeacon {
            src: internal_host(3),
            dst: planted_destination(1),
            port: 443,
            service: "ssl",
            interval_secs: 60.0,
            jitter: 0.2,
            miss_rate: 0.5,
            bytes_out: 300,
            size_variation: 0.1,
        };
        let cfg = SynthConfig {
            beacons: vec![b],
            ..SynthConfig::default()
        };
        let ev = planted_events(&cfg, &mut Rng::new(5));
        // 1440 beats a day, about half of them missed.
        assert!((600..840).contains(&ev.len()), "{}", ev.len());
        assert!(ev.iter().all(|c| (270..=330).contains(&c.out)));
    }
}
