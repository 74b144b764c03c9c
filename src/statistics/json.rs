//! The statistics snapshot as one line of JSON, librdkafka's layout: a
//! small hand-written writer (objects, numbers, escaped strings).

use alloc::string::String;
use core::fmt::Write;

use super::{Statistics, WindowStats};

/// A minimal JSON writer: objects, numbers and escaped strings.
struct Json<'a> {
    out: &'a mut String,
    comma: bool,
}

impl Json<'_> {
    fn open(&mut self, key: Option<&str>) {
        if let Some(k) = key {
            self.key(k);
        } else if self.comma {
            self.out.push(',');
        }
        self.out.push('{');
        self.comma = false;
    }

    fn close(&mut self) {
        self.out.push('}');
        self.comma = true;
    }

    fn key(&mut self, k: &str) {
        if self.comma {
            self.out.push(',');
        }
        escape(self.out, k);
        self.out.push(':');
        self.comma = true;
    }

    fn num(&mut self, k: &str, v: impl core::fmt::Display) {
        self.key(k);
        let _ = write!(self.out, "{v}");
    }

    /// A non-negative number with three decimals (integer formatting:
    /// float formatting would add its code to the component).
    fn float(&mut self, k: &str, v: f64) {
        self.key(k);
        let milli = if v.is_finite() && v > 0.0 { (v * 1000.0 + 0.5) as u64 } else { 0 };
        let _ = write!(self.out, "{}.{:03}", milli / 1000, milli % 1000);
    }

    fn str(&mut self, k: &str, v: &str) {
        self.key(k);
        escape(self.out, v);
    }

    fn window(&mut self, k: &str, w: &WindowStats) {
        self.open(Some(k));
        for (name, v) in [
            ("min", w.min),
            ("max", w.max),
            ("avg", w.avg),
            ("sum", w.sum),
            ("cnt", w.cnt),
            ("p50", w.p50),
            ("p75", w.p75),
            ("p90", w.p90),
            ("p95", w.p95),
            ("p99", w.p99),
            ("p99_99", w.p99_99),
        ] {
            self.num(name, v);
        }
        self.close();
    }
}

/// `s` as a JSON string literal.
pub fn escape(out: &mut String, s: &str) {
    out.push('"');
    for ch in s.chars() {
        match ch {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 || c == '\u{2028}' || c == '\u{2029}' => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

impl Statistics {
    /// The snapshot as one line of JSON (no newline), librdkafka's layout:
    /// `brokers` keyed by name, `topics` by name, their `partitions` by
    /// number.
    pub fn to_json(&self) -> String {
        let mut out = String::with_capacity(1024 + 512 * (self.brokers.len() + self.topics.len()));
        let mut j = Json { out: &mut out, comma: false };
        j.open(None);
        j.str("name", &self.name);
        j.str("client_id", &self.client_id);
        j.str("type", "producer");
        for (k, v) in [("ts", self.ts), ("time", self.time), ("age", self.age)] {
            j.num(k, v);
        }
        for (k, v) in [
            ("msg_cnt", self.msg_cnt),
            ("msg_size", self.msg_size),
            ("msg_max", self.msg_max),
            ("msg_size_max", self.msg_size_max),
            ("msgs", self.msgs),
            ("txmsgs", self.txmsgs),
            ("txmsg_bytes", self.txmsg_bytes),
            ("msgs_failed", self.msgs_failed),
            ("txretries", self.txretries),
            ("tx", self.tx),
            ("txbytes", self.txbytes),
            ("rx", self.rx),
            ("rxbytes", self.rxbytes),
            ("waitresp_cnt", self.waitresp_cnt),
            ("epoch_bumps", self.epoch_bumps),
            ("splits", self.splits),
        ] {
            j.num(k, v);
        }
        j.open(Some("brokers"));
        for b in &self.brokers {
            j.open(Some(&b.name));
            j.str("name", &b.name);
            j.num("nodeid", b.nodeid);
            j.str("nodename", &b.nodename);
            j.str("state", b.state);
            for (k, v) in [
                ("connects", b.connects),
                ("disconnects", b.disconnects),
                ("tx", b.tx),
                ("txbytes", b.txbytes),
                ("rx", b.rx),
                ("rxbytes", b.rxbytes),
                ("req_timeouts", b.req_timeouts),
                ("waitresp_cnt", b.waitresp_cnt),
            ] {
                j.num(k, v);
            }
            j.window("rtt", &b.rtt);
            j.window("throttle", &b.throttle);
            j.open(Some("toppars"));
            for (topic, p) in &b.toppars {
                let mut key = String::with_capacity(topic.len() + 6);
                let _ = write!(key, "{topic}-{p}");
                j.open(Some(&key));
                j.str("topic", topic);
                j.num("partition", p);
                j.close();
            }
            j.close();
            j.close();
        }
        j.close();
        j.open(Some("topics"));
        for t in &self.topics {
            j.open(Some(&t.topic));
            j.str("topic", &t.topic);
            j.window("batchsize", &t.batchsize);
            j.window("batchcnt", &t.batchcnt);
            j.open(Some("partitions"));
            for p in &t.partitions {
                let mut key = String::new();
                let _ = write!(key, "{}", p.partition);
                j.open(Some(&key));
                j.num("partition", p.partition);
                j.num("leader", p.leader);
                for (k, v) in [
                    ("msgq_cnt", p.msgq_cnt),
                    ("msgq_bytes", p.msgq_bytes),
                    ("msgs_inflight", p.msgs_inflight),
                    ("txmsgs", p.txmsgs),
                    ("txbytes", p.txbytes),
                    ("msgs_failed", p.msgs_failed),
                    ("txretries", p.txretries),
                    ("batches", p.batches),
                    ("batchsize_avg", p.batchsize_avg),
                    ("batchcnt_avg", p.batchcnt_avg),
                ] {
                    j.num(k, v);
                }
                j.float("compression_ratio", p.compression_ratio);
                j.close();
            }
            j.close();
            j.close();
        }
        j.close();
        j.open(Some("eos"));
        j.str("idemp_state", if self.producer_id >= 0 { "Assigned" } else { "Init" });
        j.num("producer_id", self.producer_id);
        j.num("producer_epoch", self.producer_epoch);
        j.num("epoch_cnt", self.epoch_cnt);
        j.str("txn_state", &self.txn_state);
        j.num("txn_may_enq", self.txn_may_enq);
        j.close();
        j.close();
        out
    }
}

