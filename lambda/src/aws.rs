//! [`PutEventsClient`] for the AWS SDK's `personalize-events` client, and how that client is
//! built for Lambda.

use aws_sdk_personalizeevents::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_personalizeevents::primitives::DateTime;
use aws_sdk_personalizeevents::types::Event;

use crate::send::{ErrorKind, PutEventsClient, PutEventsRequest, SendError, classify};

impl PutEventsClient for aws_sdk_personalizeevents::Client {
    async fn put_events(&self, request: PutEventsRequest<'_>) -> Result<(), SendError> {
        let mut call = self
            .put_events()
            .tracking_id(request.tracking_id)
            .user_id(request.user_id)
            .session_id(request.session_id);
        for event in request.events {
            let mut builder = Event::builder()
                .event_id(&event.event_id)
                .event_type(&event.event_type)
                .sent_at(DateTime::from_millis(event.sent_at_ms))
                .set_item_id(event.item_id.clone())
                .set_event_value(event.event_value)
                .set_properties(event.properties.clone())
                .set_recommendation_id(event.recommendation_id.clone());
            if !event.impression.is_empty() {
                builder = builder.set_impression(Some(event.impression.clone()));
            }
            let built = builder
                .build()
                .map_err(|e| SendError::invalid_input(format!("cannot build the event: {e}")))?;
            call = call.event_list(built);
        }
        match call.send().await {
            Ok(_) => Ok(()),
            Err(err) => Err(to_send_error(&err)),
        }
    }
}

/// Maps an SDK error to a [`SendError`] with [`classify`].
///
/// A service error reads `Code: message`, as AWS words it, so log readers (and the
/// injection test) can match on it; other errors keep their whole cause chain.
fn to_send_error<E: ProvideErrorMetadata + std::error::Error + 'static>(err: &SdkError<E>) -> SendError {
    let mut message = DisplayErrorContext(err).to_string();
    let kind = match err {
        SdkError::ServiceError(service) => {
            let status = service.raw().status().as_u16();
            let e = service.err();
            if let Some(code) = e.code() {
                message = format!("{code}: {} (HTTP {status})", e.message().unwrap_or("no message"));
            }
            classify(e.code(), Some(status))
        }
        SdkError::ConstructionFailure(_) => ErrorKind::Fatal,
        // Timeouts, dispatch (connection) failures, unreadable responses.
        _ => ErrorKind::Retryable,
    };
    SendError { kind, message }
}

/// Builds the PutEvents client from the Lambda environment: region, credentials and any
/// `AWS_ENDPOINT_URL` come from `aws-config`; HTTPS uses rustls on ring; the SDK's own retries
/// are off because [`crate::send`] retries within the invocation's deadline.
pub async fn client_from_env() -> aws_sdk_personalizeevents::Client {
    use aws_smithy_http_client::tls;
    let http = aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(tls::rustls_provider::CryptoMode::Ring))
        .build_https();
    let shared = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .http_client(http)
        .retry_config(aws_config::retry::RetryConfig::disabled())
        .load()
        .await;
    aws_sdk_personalizeevents::Client::new(&shared)
}
