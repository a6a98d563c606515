//! How the runtime behaves: where it listens, where state lives, how long resources take to
//! become ready (latency profiles), and which faults it injects.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::PathBuf;

/// Runtime settings.
#[derive(Debug, Clone)]
pub struct Config {
    /// Address to bind (loopback by default).
    pub host: IpAddr,
    /// Port to bind; 0 picks a free one.
    pub port: u16,
    /// Where state is kept; `None` keeps it in memory.
    pub data_dir: Option<PathBuf>,
    /// Readiness delays.
    pub profile: Profile,
    /// Injected faults.
    pub faults: Faults,
    /// How often event source mappings poll an idle shard (AWS: about once a second).
    pub poll_interval_ms: u64,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            host: IpAddr::from([127, 0, 0, 1]),
            port: 4566,
            data_dir: None,
            profile: Profile::fast(),
            faults: Faults::default(),
            poll_interval_ms: 1000,
        }
    }
}

/// How long asynchronous AWS state changes take, in milliseconds before `time_scale`.
#[derive(Debug, Clone, PartialEq)]
pub struct Profile {
    /// Kinesis CreateStream: CREATING → ACTIVE (also UpdateShardCount: UPDATING → ACTIVE).
    pub stream_ready_ms: u64,
    /// Kinesis DeleteStream: DELETING → gone.
    pub stream_delete_ms: u64,
    /// Personalize dataset group, schema-bound dataset: CREATE PENDING → ACTIVE.
    pub dataset_group_ready_ms: u64,
    /// Personalize dataset: CREATE PENDING → ACTIVE.
    pub dataset_ready_ms: u64,
    /// Personalize event tracker: CREATE PENDING → CREATE IN_PROGRESS → ACTIVE.
    pub tracker_ready_ms: u64,
    /// Personalize deletions (tracker, dataset, group): DELETE PENDING → gone.
    pub personalize_delete_ms: u64,
    /// Personalize dataset import job: CREATE PENDING → ACTIVE (or CREATE FAILED).
    pub import_job_ready_ms: u64,
    /// Personalize solution: CREATE PENDING → ACTIVE. 0 in every profile: AWS answers a new
    /// solution ACTIVE at once (recorded in aws-samples notebooks); a test may set it to
    /// exercise waiting.
    pub solution_ready_ms: u64,
    /// Personalize solution version (training): CREATE PENDING → ACTIVE (or CREATE FAILED).
    pub solution_version_ready_ms: u64,
    /// Personalize campaign: CREATE PENDING → ACTIVE; also how long an update takes.
    pub campaign_ready_ms: u64,
    /// Lambda CreateFunction: Pending → Active.
    pub function_ready_ms: u64,
    /// Lambda updates: LastUpdateStatus InProgress → Successful.
    pub function_update_ms: u64,
    /// Event source mapping: Creating → Enabled, Updating → Enabled/Disabled.
    pub mapping_ready_ms: u64,
    /// Event source mapping: Deleting → gone.
    pub mapping_delete_ms: u64,
    /// Multiplies every delay (e.g. 0.1 runs the realistic profile ten times faster).
    pub time_scale: f64,
    /// Enforce Kinesis's per-shard write limits (1 MiB/s or 1,000 records/s), failing records
    /// over them with `ProvisionedThroughputExceededException`.
    pub shard_write_limits: bool,
}

impl Profile {
    /// Everything ready at once: for tests that are not about lifecycles.
    pub fn instant() -> Profile {
        Profile {
            stream_ready_ms: 0,
            stream_delete_ms: 0,
            dataset_group_ready_ms: 0,
            dataset_ready_ms: 0,
            tracker_ready_ms: 0,
            personalize_delete_ms: 0,
            import_job_ready_ms: 0,
            solution_ready_ms: 0,
            solution_version_ready_ms: 0,
            campaign_ready_ms: 0,
            function_ready_ms: 0,
            function_update_ms: 0,
            mapping_ready_ms: 0,
            mapping_delete_ms: 0,
            time_scale: 1.0,
            shard_write_limits: false,
        }
    }

    /// The default: small delays, so waits are exercised but cost little.
    pub fn fast() -> Profile {
        Profile {
            stream_ready_ms: 200,
            stream_delete_ms: 200,
            dataset_group_ready_ms: 200,
            dataset_ready_ms: 200,
            tracker_ready_ms: 300,
            personalize_delete_ms: 200,
            import_job_ready_ms: 200,
            solution_ready_ms: 0,
            solution_version_ready_ms: 300,
            campaign_ready_ms: 200,
            function_ready_ms: 100,
            function_update_ms: 100,
            mapping_ready_ms: 200,
            mapping_delete_ms: 100,
            time_scale: 1.0,
            shard_write_limits: false,
        }
    }

    /// Shaped like AWS: tracker ≈ 60 s, stream ≈ 30 s, function ≈ 5 s, mapping ≈ 10 s.
    pub fn realistic() -> Profile {
        Profile {
            stream_ready_ms: 30_000,
            stream_delete_ms: 20_000,
            dataset_group_ready_ms: 30_000,
            dataset_ready_ms: 15_000,
            tracker_ready_ms: 60_000,
            personalize_delete_ms: 30_000,
            import_job_ready_ms: 60_000,
            solution_ready_ms: 0,
            solution_version_ready_ms: 120_000,
            campaign_ready_ms: 60_000,
            function_ready_ms: 5_000,
            function_update_ms: 3_000,
            mapping_ready_ms: 10_000,
            mapping_delete_ms: 10_000,
            time_scale: 1.0,
            shard_write_limits: true,
        }
    }

    /// A named profile: `instant`, `fast` or `realistic`.
    pub fn named(name: &str) -> Option<Profile> {
        match name {
            "instant" => Some(Profile::instant()),
            "fast" => Some(Profile::fast()),
            "realistic" => Some(Profile::realistic()),
            _ => None,
        }
    }

    /// `ms` scaled by `time_scale`.
    pub fn scaled(&self, ms: u64) -> u64 {
        let scaled = ms as f64 * self.time_scale.max(0.0);
        if scaled.is_finite() {
            scaled.round() as u64
        } else {
            u64::MAX
        }
    }
}

/// Faults to inject, to exercise retries and waits.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Faults {
    /// Probability (0–1) that any operation is throttled with its service's throttling error.
    pub throttle: f64,
    /// Per-operation throttling probabilities (`"kinesis:CreateStream": 0.5`), overriding
    /// `throttle`.
    pub throttle_ops: BTreeMap<String, f64>,
    /// Probability (0–1) that any operation fails with its service's 5xx error.
    pub server_error: f64,
    /// For this long after a role is created, Lambda cannot assume it and event source
    /// mappings cannot use it, with AWS's messages.
    pub iam_propagation_ms: u64,
}
