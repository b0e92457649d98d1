package bench

// PricesRead is when the prices below were looked up.
const PricesRead = "2026-11-23"

// PriceRegion is the region the cost model prices: Asia Pacific (Jakarta).
const PriceRegion = "ap-southeast-3 (Asia Pacific, Jakarta)"

// Price keys.
const (
	PriceLambdaRequests   = "lambda-requests"
	PriceLambdaArmGBs     = "lambda-arm64-gb-second"
	PriceHTTPAPIRequests  = "apigateway-http-requests"
	PriceDynamoDBWRU      = "dynamodb-ondemand-wru"
	PriceDynamoDBRRU      = "dynamodb-ondemand-rru"
	PriceSQSStandard      = "sqs-standard-requests"
	PriceSQSFIFO          = "sqs-fifo-requests"
	perMillion            = 1e6
	unverifiedNoJakarta   = "unverified: the stored material has no Jakarta figure (AWS's pricing pages render regional rates client-side); the US East (N. Virginia) list price is used"
	pricesSourceLambda    = "https://aws.amazon.com/lambda/pricing/"
	pricesSourceAPI       = "https://aws.amazon.com/api-gateway/pricing/"
	pricesSourceDynamoDB  = "https://aws.amazon.com/dynamodb/pricing/on-demand/"
	pricesSourceSQS       = "https://aws.amazon.com/sqs/pricing/"
	pricesSourceArtillery = "https://app.unpkg.com/artillery@2.0.28/files/lib/platform/aws-lambda/prices.js"
)

// Price is one on-demand list price, in US dollars per Unit (float money is fine in a
// report; no domain code uses it).
type Price struct {
	Key     string  `json:"key"`
	Service string  `json:"service"`
	Item    string  `json:"item"`
	USD     float64 `json:"usd"`
	// Unit is what USD buys, e.g. "1M requests", "GB-second".
	Unit string `json:"unit"`
	// Per is how many of the counted quantity Unit is (1e6 for "1M requests").
	Per float64 `json:"per"`
	// Source is where the price was read; Note says what it is not (empty when it is
	// the region's verified figure).
	Source string `json:"source"`
	Note   string `json:"note,omitempty"`
}

// Prices are the cost model's on-demand list prices, without free tiers (Lambda's 1M
// requests and 400,000 GB-seconds a month, SQS's 1M requests a month, API Gateway's 12
// months of 1M calls). Read on PricesRead. No figure for Jakarta was in the stored
// material (the search tool's documentation and web pages): each line is the US East
// figure, marked unverified, and the report says so.
var Prices = []Price{
	{PriceLambdaRequests, "Lambda", "requests (arm64)", 0.20, "1M requests", perMillion, pricesSourceLambda,
		unverifiedNoJakarta},
	{PriceLambdaArmGBs, "Lambda", "duration, arm64 (first 7.5 billion GB-s a month)", 0.0000133334, "GB-second", 1, pricesSourceLambda + " ; " + pricesSourceArtillery,
		unverifiedNoJakarta + "; a third-party table of the regions priced above the base rate (artillery's) does not list ap-southeast-3"},
	{PriceHTTPAPIRequests, "API Gateway", "HTTP API requests (first 300M a month)", 1.00, "1M requests", perMillion, pricesSourceAPI,
		unverifiedNoJakarta + " (the page's own worked example)"},
	{PriceDynamoDBRRU, "DynamoDB", "on-demand read request units", 0.125, "1M RRU", perMillion, pricesSourceDynamoDB + " ; https://airbyte.com/data-engineering-resources/dynamodb-pricing",
		unverifiedNoJakarta + ", after the November 2024 on-demand price cut"},
	{PriceDynamoDBWRU, "DynamoDB", "on-demand write request units", 0.625, "1M WRU", perMillion, pricesSourceDynamoDB + " ; https://airbyte.com/data-engineering-resources/dynamodb-pricing",
		unverifiedNoJakarta + ", after the November 2024 on-demand price cut"},
	{PriceSQSStandard, "SQS", "standard queue requests (64 KB chunks, first 100B a month)", 0.40, "1M requests", perMillion, pricesSourceSQS + " ; https://cloudburn.io/blog/amazon-sqs-pricing",
		unverifiedNoJakarta},
	{PriceSQSFIFO, "SQS", "FIFO queue requests (64 KB chunks)", 0.50, "1M requests", perMillion, pricesSourceSQS + " ; https://cloudburn.io/blog/amazon-sqs-pricing",
		unverifiedNoJakarta},
}

// PriceOf returns a price by key.
func PriceOf(key string) (Price, bool) {
	for _, p := range Prices {
		if p.Key == key {
			return p, true
		}
	}
	return Price{}, false
}
