//! AWS errors as the services return them: a code, a message and an HTTP status. Each
//! protocol module renders them in its own wire shape so SDK clients decode typed errors.

use std::fmt;

/// An error an AWS operation returns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AwsError {
    /// The error code, e.g. `ResourceNotFoundException` (awsJson/restJson) or `NoSuchEntity`
    /// (awsQuery).
    pub code: String,
    /// The message, worded as AWS words it.
    pub message: String,
    /// HTTP status.
    pub status: u16,
    /// For awsQuery: `Sender` (client error) or `Receiver` (server error).
    pub sender: bool,
    /// Raised outside the service's modelled errors (a front-end check), so restJson renders
    /// it as a bare `message` even under a modelled code (see [`AwsError::bare`]).
    pub bare: bool,
}

impl AwsError {
    /// A client error (`400` unless changed with [`AwsError::status`]).
    pub fn new(code: impl Into<String>, message: impl Into<String>) -> Self {
        AwsError {
            code: code.into(),
            message: message.into(),
            status: 400,
            sender: true,
            bare: false,
        }
    }

    /// Marks the error as answered with a bare `message`, without the modelled members
    /// (Lambda's `Type`): some checks answer so under a modelled code (recorded: LocalStack
    /// test_function_concurrency_limits).
    #[must_use]
    pub fn bare(mut self) -> Self {
        self.bare = true;
        self
    }

    /// Sets the HTTP status.
    #[must_use]
    pub fn status(mut self, status: u16) -> Self {
        self.status = status;
        self.sender = status < 500;
        self
    }

    /// `ValidationException` with `message` (Personalize, Kinesis use other codes; see their
    /// modules).
    pub fn validation(message: impl Into<String>) -> Self {
        AwsError::new("ValidationException", message)
    }

    /// An internal error of the runtime itself (storage), as a 500.
    pub fn internal(message: impl Into<String>) -> Self {
        AwsError::new("InternalFailure", message).status(500)
    }

    /// The error AWS returns for a request without SigV4 authorization.
    pub fn missing_authentication() -> Self {
        AwsError::new(
            "MissingAuthenticationTokenException",
            "Missing Authentication Token",
        )
        .status(403)
    }
}

impl fmt::Display for AwsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl std::error::Error for AwsError {}

impl From<crate::store::StoreError> for AwsError {
    fn from(e: crate::store::StoreError) -> Self {
        AwsError::internal(format!("local runtime storage failed: {e}"))
    }
}

/// The result of an operation.
pub type AwsResult<T> = Result<T, AwsError>;
