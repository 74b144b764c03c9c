//! The command line, kcat's producer flags where they apply: one parser
//! and one help text for both commands. Flags only one command has are
//! refused by the other, and the help says which.

use std::ffi::OsString;
use std::fmt;

/// Which command is parsing: they differ only in who does the I/O, and in
/// the flags that go with that.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command {
    /// `kafka-kcat`, a WASI command: the producer core in process, over
    /// WASI sockets (`wasmtime run -S inherit-network=y`).
    Kcat,
    /// `kafka-produce`, the wasmtime embedding driving the `engine`
    /// component over native sockets; starts a Tansu broker without `-b`.
    Produce,
}

impl Command {
    pub fn name(self) -> &'static str {
        match self {
            Command::Kcat => "kafka-kcat",
            Command::Produce => "kafka-produce",
        }
    }
}

/// The help text of both commands.
pub const HELP: &str = "\
usage: {cmd} -b HOST:PORT[,...] -t TOPIC [options] [FILE...]
Produces records to Kafka, kcat-style: from stdin split at each newline
(or -D), or from FILEs (each file one record, unless -l).

  -b BROKERS       bootstrap servers, host:port[,...] (kafka-produce: without
                   -b an embedded Tansu broker is started)
  -t TOPIC         topic (default: lines)
  -p PARTITION     send every record to this partition (-1: the partitioner)
  -K DELIM         split each record at the first DELIM into key and value
                   (a record without DELIM gets no key, or -k's)
  -k KEY           the key of every record (with -K: of records without DELIM)
  -D DELIM         record delimiter (default: \\n)
  -H NAME=VALUE    a header on every record (repeatable; NAME alone: null value)
  -z CODEC         compression: none, gzip, snappy, lz4, zstd (compression.type)
  -X PROP=VALUE    producer property, Java / librdkafka names (repeatable),
                   e.g. -X acks=1 -X linger.ms=20 -X ssl.ca.location=ca.pem;
                   -X statistics.interval.ms=N prints statistics (JSON, one
                   line each, librdkafka's names) to stderr every N ms and
                   once more at the end
  -l               split FILEs at the delimiter as stdin is (else each FILE is
                   one record); FILE `-` is stdin
  -c N             stop after N records
  -Z               send empty records with a null value (else an empty value)
  -T               echo each record produced to stdout (tee); the summary then
                   goes to stderr
  -q               quiet: no warnings, no rate line
  -v               verbose: the inputs as they are read, connection and byte
                   counts at the end (stderr)
  --commit-every N with -X transactional.id=ID: commit a transaction every N
                   records (default: all input in one transaction, committed
                   at the end)
  -h               this help
  --component PATH (kafka-produce) the engine component, .wasm or precompiled
                   .cwasm (default: the cargo build output; compiled once and
                   cached)
  --partitions N   (kafka-produce) partitions of the topic on the embedded
                   broker (default: 3)

DELIM, KEY and VALUE take escapes: \\n \\r \\t \\0 \\\\ \\xNN.
Connection failures and other warnings go to stderr as they happen; when
stderr is a terminal a rate line is kept there. At the end:
  records: N  delivered: N  failed: N  bytes: N  time: S s  R msgs/s  M MB/s  wire: N bytes
and the first distinct errors. With -X transactional.id=ID the records go
in transactions (init, begin, commit; a failed one is aborted, reported,
and ends the run), and the summary adds
  transactions: N committed  N aborted
Exit status: 0 if every record was
delivered, 1 if any failed or was refused, 2 for bad usage or configuration
(kafka-kcat under wasmtime run: 1, as a WASI 0.2 exit is only success or
failure).";

/// The help text for `command`.
pub fn help(command: Command) -> String {
    HELP.replace("{cmd}", command.name())
}

/// Everything the command line asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    pub brokers: Option<String>,
    pub topic: String,
    pub partition: Option<i32>,
    pub key_delim: Option<Vec<u8>>,
    pub key: Option<Vec<u8>>,
    pub delim: Vec<u8>,
    pub headers: Vec<(String, Option<Vec<u8>>)>,
    /// `-X` and `-z`, in command-line order (later ones win).
    pub props: Vec<(String, String)>,
    pub split_files: bool,
    pub files: Vec<String>,
    pub count: Option<u64>,
    pub null_empty: bool,
    pub tee: bool,
    pub quiet: bool,
    pub verbose: bool,
    /// `--commit-every`: records per transaction.
    pub commit_every: Option<u64>,
    /// kafka-produce only.
    pub component: Option<String>,
    pub partitions: u32,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            brokers: None,
            topic: "lines".into(),
            partition: None,
            key_delim: None,
            key: None,
            delim: b"\n".to_vec(),
            headers: Vec::new(),
            props: Vec::new(),
            split_files: false,
            files: Vec::new(),
            count: None,
            null_empty: false,
            tee: false,
            quiet: false,
            verbose: false,
            commit_every: None,
            component: None,
            partitions: 3,
        }
    }
}

impl Options {
    /// Whether the records go in transactions (`-X transactional.id=...`).
    pub fn transactional(&self) -> bool {
        self.props.iter().rev().find(|(k, _)| k.trim() == "transactional.id").is_some_and(|(_, v)| !v.trim().is_empty())
    }

    /// The producer's properties: `bootstrap.servers` (from `-b`, else
    /// `bootstrap`), `client.id` (the command's name), then `-z` / `-X` in
    /// order, so `-X client.id=...` wins.
    pub fn properties(&self, command: Command, bootstrap: &str) -> Vec<(String, String)> {
        let mut p = vec![
            ("bootstrap.servers".to_string(), self.brokers.clone().unwrap_or_else(|| bootstrap.to_string())),
            ("client.id".to_string(), command.name().to_string()),
        ];
        p.extend(self.props.iter().cloned());
        p
    }
}

/// What the command line asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Parsed {
    Help,
    Run(Options),
}

/// Bad usage: exit 2 with this message (it names the flag).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsageError(pub String);

impl fmt::Display for UsageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

fn usage<T>(msg: impl Into<String>) -> Result<T, UsageError> {
    Err(UsageError(msg.into()))
}

/// Parses the arguments after the program name.
pub fn parse(command: Command, args: impl IntoIterator<Item = OsString>) -> Result<Parsed, UsageError> {
    let mut o = Options::default();
    let mut it = args.into_iter();
    let mut only_files = false;
    while let Some(arg) = it.next() {
        let Ok(arg) = arg.into_string() else {
            return usage("an argument is not UTF-8 (write other bytes as \\xNN)");
        };
        if only_files || arg == "-" || !arg.starts_with('-') {
            o.files.push(arg);
            continue;
        }
        // `-tTOPIC` as `-t TOPIC`, as getopt allows.
        let (flag, attached) = if arg.starts_with("--") || arg.len() <= 2 {
            (arg.as_str(), None)
        } else {
            arg.split_at_checked(2).map_or((arg.as_str(), None), |(f, v)| (f, Some(v.to_string())))
        };
        let mut value = |what: &str| -> Result<String, UsageError> {
            match attached.clone().or_else(|| it.next().and_then(|v| v.into_string().ok())) {
                Some(v) => Ok(v),
                None => usage(format!("{flag} needs {what}")),
            }
        };
        let only = |c: Command| -> Result<(), UsageError> {
            if c != command {
                return usage(format!("{flag} is a {} option, not a {} one", c.name(), command.name()));
            }
            Ok(())
        };
        match flag {
            "-h" | "--help" => return Ok(Parsed::Help),
            "--" => only_files = true,
            "-b" => o.brokers = Some(value("HOST:PORT[,...]")?),
            "-t" => o.topic = value("a topic")?,
            "-p" => {
                let v = value("a partition")?;
                o.partition = match v.trim().parse::<i32>() {
                    Ok(-1) => None,
                    Ok(p) if p >= 0 => Some(p),
                    _ => return usage(format!("-p {v}: expected a partition number (or -1)")),
                }
            }
            "-K" => o.key_delim = Some(delimiter("-K", &value("a delimiter")?)?),
            "-k" => o.key = Some(unescape("-k", &value("a key")?)?),
            "-D" => o.delim = delimiter("-D", &value("a delimiter")?)?,
            "-H" => {
                let v = value("NAME=VALUE")?;
                let (name, val) = match v.split_once('=') {
                    Some((n, val)) => (n, Some(unescape("-H", val)?)),
                    None => (v.as_str(), None),
                };
                if name.is_empty() {
                    return usage(format!("-H {v}: the header needs a name"));
                }
                o.headers.push((name.to_string(), val));
            }
            "-z" => {
                let v = value("a codec")?;
                if !["none", "gzip", "snappy", "lz4", "zstd"].contains(&v.as_str()) {
                    return usage(format!("-z {v}: expected none, gzip, snappy, lz4 or zstd"));
                }
                o.props.push(("compression.type".into(), v));
            }
            "-X" => {
                let v = value("PROP=VALUE")?;
                match v.split_once('=') {
                    Some((k, val)) if !k.trim().is_empty() => o.props.push((k.to_string(), val.to_string())),
                    _ => return usage(format!("-X {v}: expected PROP=VALUE")),
                }
            }
            "-l" => o.split_files = true,
            "-c" => {
                let v = value("a count")?;
                o.count = Some(v.trim().parse().map_err(|_| UsageError(format!("-c {v}: expected a number of records")))?);
            }
            "-Z" => o.null_empty = true,
            "-T" => o.tee = true,
            "-q" => o.quiet = true,
            "-v" => o.verbose = true,
            "-P" => {} // kcat's producer mode: the only mode here.
            "--commit-every" => {
                let v = value("a number of records")?;
                o.commit_every = match v.trim().parse() {
                    Ok(n) if n > 0 => Some(n),
                    _ => return usage(format!("--commit-every {v}: expected a positive number of records")),
                };
            }
            "--component" => {
                only(Command::Produce)?;
                o.component = Some(value("a path")?);
            }
            "--partitions" => {
                only(Command::Produce)?;
                let v = value("a number")?;
                o.partitions = match v.trim().parse() {
                    Ok(n) if n > 0 => n,
                    _ => return usage(format!("--partitions {v}: expected a positive number")),
                };
            }
            _ => return usage(format!("unknown option {arg}")),
        }
    }
    if command == Command::Kcat && o.brokers.is_none() {
        return usage("-b is required (bootstrap servers, host:port[,...])");
    }
    if o.commit_every.is_some() && !o.transactional() {
        return usage("--commit-every needs -X transactional.id=ID");
    }
    if o.brokers.as_deref().is_some_and(|b| b.trim().is_empty()) {
        return usage("-b: no bootstrap servers given");
    }
    Ok(Parsed::Run(o))
}

/// A delimiter: escapes allowed, not empty.
fn delimiter(flag: &str, s: &str) -> Result<Vec<u8>, UsageError> {
    let d = unescape(flag, s)?;
    if d.is_empty() {
        return usage(format!("{flag}: the delimiter is empty"));
    }
    Ok(d)
}

/// `\n \r \t \0 \\ \xNN` to bytes; other characters as their UTF-8.
pub fn unescape(flag: &str, s: &str) -> Result<Vec<u8>, UsageError> {
    let mut out = Vec::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            let mut b = [0; 4];
            out.extend_from_slice(c.encode_utf8(&mut b).as_bytes());
            continue;
        }
        match chars.next() {
            Some('n') => out.push(b'\n'),
            Some('r') => out.push(b'\r'),
            Some('t') => out.push(b'\t'),
            Some('0') => out.push(0),
            Some('\\') => out.push(b'\\'),
            Some('x') => {
                let hex: String = chars.by_ref().take(2).collect();
                match u8::from_str_radix(&hex, 16) {
                    Ok(b) if hex.len() == 2 => out.push(b),
                    _ => return usage(format!("{flag} {s}: \\x takes two hex digits")),
                }
            }
            Some(o) => return usage(format!("{flag} {s}: unknown escape \\{o} (known: \\n \\r \\t \\0 \\\\ \\xNN)")),
            None => return usage(format!("{flag} {s}: a lone \\ at the end")),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(a: &[&str]) -> Vec<OsString> {
        a.iter().map(OsString::from).collect()
    }

    fn run(c: Command, a: &[&str]) -> Result<Options, UsageError> {
        match parse(c, args(a))? {
            Parsed::Run(o) => Ok(o),
            Parsed::Help => panic!("help"),
        }
    }

    #[test]
    fn kcat_flags_parse() {
        let o = run(
            Command::Kcat,
            &["-b", "h:1", "-t", "t", "-p", "2", "-K", "\\t", "-k", "k", "-D", "\\x1e", "-H", "a=1", "-H", "n", "-z", "lz4", "-X", "acks=1", "-l", "-c", "5", "-T", "-q", "f1", "-", "f2"],
        )
        .unwrap();
        assert_eq!(o.brokers.as_deref(), Some("h:1"));
        assert_eq!(o.topic, "t");
        assert_eq!(o.partition, Some(2));
        assert_eq!(o.key_delim.as_deref(), Some(&b"\t"[..]));
        assert_eq!(o.key.as_deref(), Some(&b"k"[..]));
        assert_eq!(o.delim, vec![0x1e]);
        assert_eq!(o.headers, vec![("a".into(), Some(b"1".to_vec())), ("n".into(), None)]);
        assert_eq!(o.props, vec![("compression.type".into(), "lz4".into()), ("acks".into(), "1".into())]);
        assert!(o.split_files && o.tee && o.quiet);
        assert_eq!(o.count, Some(5));
        assert_eq!(o.files, vec!["f1", "-", "f2"]);
        assert_eq!(run(Command::Kcat, &["-b", "h:1", "-p", "-1"]).unwrap().partition, None);
        assert_eq!(run(Command::Kcat, &["-bh:1", "-tx"]).unwrap().topic, "x");
    }

    #[test]
    fn escapes() {
        assert_eq!(unescape("-D", "a\\n\\r\\t\\0\\\\\\xfF").unwrap(), b"a\n\r\t\0\\\xff");
        assert!(unescape("-D", "\\q").unwrap_err().0.contains("-D"));
        assert!(unescape("-D", "\\x4").is_err());
        assert!(unescape("-D", "\\").is_err());
        assert!(run(Command::Kcat, &["-b", "h:1", "-D", ""]).is_err());
    }

    #[test]
    fn bad_usage_names_the_flag() {
        let e = |c, a: &[&str]| run(c, a).unwrap_err().0;
        assert!(e(Command::Kcat, &["-b", "h:1", "-X", "acks"]).contains("-X acks"));
        assert!(e(Command::Kcat, &["-b", "h:1", "-X", "=1"]).contains("-X =1"));
        assert!(e(Command::Kcat, &["-b", "h:1", "--bogus"]).contains("--bogus"));
        assert!(e(Command::Kcat, &["-b", "h:1", "-z", "brotli"]).contains("-z brotli"));
        assert!(e(Command::Kcat, &["-b", "h:1", "-p", "x"]).contains("-p x"));
        assert!(e(Command::Kcat, &["-b", "h:1", "-c"]).contains("-c"));
        assert!(e(Command::Kcat, &["-t", "x"]).contains("-b"));
        assert!(e(Command::Kcat, &["-b", "h:1", "--component", "x"]).contains("kafka-produce"));
        assert!(run(Command::Produce, &["--component", "x", "--partitions", "6"]).is_ok());
        assert!(e(Command::Produce, &["--partitions", "0"]).contains("--partitions"));
        assert!(e(Command::Produce, &["--commit-every", "10"]).contains("transactional.id"));
        assert!(e(Command::Produce, &["--commit-every", "0", "-X", "transactional.id=t"]).contains("--commit-every 0"));
        let o = run(Command::Kcat, &["-b", "h:1", "-X", "transactional.id=t", "--commit-every", "10"]).unwrap();
        assert!(o.transactional() && o.commit_every == Some(10));
    }

    #[test]
    fn help_and_properties() {
        assert_eq!(parse(Command::Kcat, args(&["-x", "-h"])).ok(), None);
        assert_eq!(parse(Command::Kcat, args(&["-h"])).unwrap(), Parsed::Help);
        assert!(help(Command::Produce).starts_with("usage: kafka-produce "));
        let o = run(Command::Produce, &["-X", "client.id=me"]).unwrap();
        let p = o.properties(Command::Produce, "127.0.0.1:5");
        assert_eq!(p[0], ("bootstrap.servers".into(), "127.0.0.1:5".into()));
        assert_eq!(p.last().unwrap(), &("client.id".to_string(), "me".to_string()));
    }
}
