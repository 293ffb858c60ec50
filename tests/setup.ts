// No test may reach AWS or Snowflake: dummy credentials, no instance-metadata probing,
// no Snowflake platform detection (it probes cloud metadata addresses on load).
process.env.AWS_EC2_METADATA_DISABLED = 'true';
process.env.AWS_REGION ??= 'us-east-1';
process.env.AWS_ACCESS_KEY_ID ??= 'test';
process.env.AWS_SECRET_ACCESS_KEY ??= 'test';
process.env.SNOWFLAKE_DISABLE_PLATFORM_DETECTION = 'true';
process.env.POWERTOOLS_DEV ??= 'false';
// Steps log failures at ERROR on purpose (the fault suites cause many); tests assert on results, not logs.
process.env.POWERTOOLS_LOG_LEVEL ??= 'SILENT';
