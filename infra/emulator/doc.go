// Package emulator installs and runs the local AWS emulators of etalase's
// two-account stack: AWS DynamoDB Local (Java; DynamoDBLocal.jar 1.25.1 taken
// from the npm package amplify-dynamodb-simulator) and fauxqs (an SQS emulator
// on Node.js).
//
// Install puts pinned versions under <cacheDir>/emulators (network only the
// first time); Start runs both on free ports of 127.0.0.1, listening there only,
// waits until each answers a real API call, and returns a Stack whose Stop ends
// them. Tests reach a running pair through package infra/testenv.
//
// # DynamoDB Local
//
// DynamoDB Local keeps one database per access key id and region, so clients
// using localaccount.Social and localaccount.Commerce credentials see different
// tables, as two AWS accounts would. It never throttles and never reports
// transaction conflicts.
//
// DynamoDB Local has no option to choose the listening address: java -jar
// DynamoDBLocal.jar listens on all interfaces. Start runs it through a small
// launcher instead, dynamodb/EtalaseDynamoDBLocal.java, which builds the server
// as DynamoDB Local's own main does, sets its Jetty connector's host to
// 127.0.0.1 before starting it, and exits if the socket ends up bound anywhere
// else. Install compiles the launcher with javac into
// <cacheDir>/emulators/dynamodb-launcher, once, and again only when its source
// or DynamoDB Local changes. So the first Install needs a JDK, not only a Java
// runtime; later ones need only java.
//
// # fauxqs (SQS)
//
// fauxqs 1.9.2, as the SDK for Go v2 (AWS JSON protocol) sees it:
//
//   - No accounts. Every queue URL and ARN carries account 000000000000,
//     whatever the caller's credentials; QueueOwnerAWSAccountId is ignored and
//     SenderId is always 000000000000. Queues of the social and commerce
//     accounts share one namespace: the same name from both accounts is the
//     same queue, so queue names must differ between the accounts.
//   - Region is part of a queue's identity and is taken from the request's
//     SigV4 credential scope (localaccount.Region for our clients); unsigned
//     requests fall back to localaccount.Region, which Start configures.
//   - Queue URLs look like http://sqs.ap-southeast-3.localhost:PORT/000000000000/NAME
//     and ARNs like arn:aws:sqs:ap-southeast-3:000000000000:NAME. Requests are
//     matched on the exact URL string fauxqs returned: an AWS-style URL with a
//     real account id or host, or http://127.0.0.1:PORT/000000000000/NAME, is
//     QueueDoesNotExist. Get URLs from CreateQueue or GetQueueUrl. The
//     sqs.<region>.localhost host does not resolve here; the SDK sends to the
//     client's BaseEndpoint, so only code that dials the URL itself cares.
//   - ListQueues lists every queue (both accounts, all regions).
//   - Supported: visibility timeouts (queue default and per receive,
//     ChangeMessageVisibility), delay queues and per-message delays, long
//     polling, batches, message attributes with correct MD5s, RedrivePolicy
//     dead-letter queues (the message moves on the receive after
//     maxReceiveCount, as in AWS; deadLetterTargetArn must be fauxqs's
//     000000000000 ARN, read it from GetQueueAttributes QueueArn), FIFO queues
//     with content-based or explicit deduplication (5-minute window) and
//     sequence numbers, tags.
//   - FIFO differs from AWS: one ReceiveMessage returns at most one message per
//     message group, and a group stays locked until its in-flight message is
//     deleted or becomes visible again.
//   - Not emulated: persistence (queues live until Stop), authorization and
//     queue policies, cross-account permissions, MessageRetentionPeriod expiry
//     (accepted, never applied), RedriveAllowPolicy, SSE. CreateQueue accepts
//     any attribute; SetQueueAttributes rejects all but VisibilityTimeout,
//     DelaySeconds, MaximumMessageSize (up to 1 MiB), MessageRetentionPeriod,
//     ReceiveMessageWaitTimeSeconds, RedrivePolicy, Policy, KmsMasterKeyId,
//     KmsDataKeyReusePeriodSeconds, FifoQueue and ContentBasedDeduplication
//     with InvalidAttributeName. The SQS query protocol is not supported (the
//     Go SDK uses JSON).
//   - fauxqs also emulates SNS and S3 on the same port; etalase does not use them.
//
// TestFauxqsBehaviour pins these facts.
package emulator
