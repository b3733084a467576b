"use strict";
// AWSGuard as its README sets it up: every policy advisory. The three policies that call AWS APIs
// from inside the pack (ACM DescribeCertificate, IAM ListAccessKeys, IAM ListMFADevices) are
// disabled: the benchmark must not send traffic off 127.0.0.1 (netguard.js blocks it anyway).
const { AwsGuard } = require("@pulumi/awsguard");

new AwsGuard({
    all: "advisory",
    acmCertificateExpiration: "disabled",
    iamAccessKeysRotated: "disabled",
    iamMfaEnabledForConsoleAccess: "disabled",
});
