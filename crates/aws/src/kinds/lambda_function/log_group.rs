//! The function's log group, `/aws/lambda/<name>`: created with the stack's tags (or adopted:
//! Lambda creates it itself on the first invocation) and its retention set.

use super::*;

/// The log group named exactly `name`, if it exists.
pub(super) async fn find_log_group(aws: &Aws, name: &str) -> Result<Option<LogGroup>, ProviderError> {
    let logs = &aws.clients.logs;
    let groups = aws
        .list_all(
            "DescribeLogGroups",
            |token| {
                logs.describe_log_groups()
                    .log_group_name_prefix(name)
                    .set_next_token(token)
                    .send()
            },
            |page| (page.log_groups.unwrap_or_default(), page.next_token),
        )
        .await?;
    Ok(groups.into_iter().find(|g| g.log_group_name() == Some(name)))
}

/// Creates `/aws/lambda/<name>` with our tags, or adopts it (Lambda creates it itself on the
/// first invocation); sets the retention when declared.
pub(super) async fn ensure_log_group(aws: &Aws, r: &Resource, spec: &LambdaFunction) -> Result<(), ProviderError> {
    let logs = &aws.clients.logs;
    let group = spec.log_group_name();
    let tags: HashMap<String, String> = aws.tags_for(r, &spec.tags).into_iter().collect();
    match aws
        .call("CreateLogGroup", || {
            logs.create_log_group()
                .log_group_name(&group)
                .set_tags(Some(tags.clone()))
                .send()
        })
        .await
    {
        Ok(_) => {}
        Err(e) if e.is(ErrorKind::AlreadyExists) => {
            if let Some(arn) = find_log_group(aws, &group)
                .await?
                .and_then(|g| g.log_group_arn().map(str::to_owned))
            {
                aws.call("TagResource", || {
                    logs.tag_resource()
                        .resource_arn(&arn)
                        .set_tags(Some(tags.clone()))
                        .send()
                })
                .await?;
            }
        }
        Err(e) => return Err(e),
    }
    if let Some(days) = spec.log_retention_days {
        aws.call("PutRetentionPolicy", || {
            logs.put_retention_policy()
                .log_group_name(&group)
                .retention_in_days(to_i32(days))
                .send()
        })
        .await?;
    }
    Ok(())
}
