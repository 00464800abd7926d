//! OCI statuses and what each allows.

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Status {
    Creating,
    Created,
    Running,
    Stopped,
}

impl Status {
    pub fn can_start(self) -> bool {
        self == Status::Created
    }

    pub fn can_kill(self) -> bool {
        matches!(self, Status::Created | Status::Running)
    }

    /// Without `--force`: a running container is refused.
    pub fn can_delete(self) -> bool {
        self != Status::Running
    }
}
