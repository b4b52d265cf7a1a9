// Package storetest is the conformance suite of the store contract. Every backend
// runs it: its own test runs it on each backend package testdb lists (SQLite
// always, PostgreSQL when PFORTE_TEST_POSTGRES is set), so a new backend is its
// package plus one line there; a method without a test here is not part of the
// contract. The concurrency tests pin down the guarantees later packages build
// on: parallel updaters keep every increment, a one-time value is consumed
// exactly once, and parallel audit appends keep one chain.
package storetest

import (
	"testing"
	"time"

	"github.com/pforte/pforte/internal/store"
)

// NewStore returns a fresh, empty, migrated store that is closed when t ends.
type NewStore func(t *testing.T) store.Store

// Run runs the whole suite. Tests run sequentially, each on a fresh store.
func Run(t *testing.T, newStore NewStore) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s store.Store)
	}{
		{"PersonsUpsertInsertsAndCounts", testPersonsUpsert},
		{"PersonsUpsertIsIdempotent", testPersonsUpsertIdempotent},
		{"PersonsUpsertLargeBatch", testPersonsUpsertLargeBatch},
		{"PersonsRoundTrip", testPersonsRoundTrip},
		{"PersonsNotFound", testPersonsNotFound},
		{"UpdatePerson", testUpdatePerson},
		{"UpdatePersonParallelKeepsEveryUpdate", testUpdatePersonParallel},
		{"Accounts", testAccounts},
		{"AccountsParallelCreateOnce", testAccountsParallelCreate},
		{"Sessions", testSessions},
		{"Letters", testLetters},
		{"LettersDailyCapUnderParallelRequests", testLettersParallelCap},
		{"LetterWithCodesInOneTransaction", testLetterWithCodes},
		{"Identifications", testIdentifications},
		{"Devices", testDevices},
		{"DeviceProofs", testDeviceProofs},
		{"DeviceProofsExactUnderParallelRequests", testDeviceProofsParallel},
		{"DeviceProofsRaceStaffLock", testDeviceProofsRaceStaffLock},
		{"UsedChallenges", testUsedChallenges},
		{"UsedChallengeOnceUnderParallelRequests", testUsedChallengesParallel},
		{"Approvals", testApprovals},
		{"ApprovalCreateCheck", testApprovalCreateCheck},
		{"ApprovalCreateCheckUnderParallelRequests", testApprovalCreateParallelCheck},
		{"ApprovalAnsweredExactlyOnce", testApprovalAnsweredExactlyOnce},
		{"ApproveExecutes", testApproveExecutes},
		{"ApproveNeverAfterExpiry", testApproveNeverAfterExpiry},
		{"ApproveExecutesExactlyOnce", testApproveExecutesExactlyOnce},
		{"ApproveTxReadsDevice", testApproveTxReadsDevice},
		{"ApprovalWithdraw", testApprovalWithdraw},
		{"RedeemApproval", testRedeemApproval},
		{"OutboxAfter", testOutboxAfter},
		{"Notices", testNotices},
		{"NoticesClaimedOnce", testNoticesClaimedOnce},
		{"NoticesWithChanges", testNoticesWithChanges},
		{"CounterNotice", testCounterNotice},
		{"CounterCreateAndUpdate", testCounterCreateAndUpdate},
		{"CounterParallelIncrementsNewKey", testCounterParallelNewKey},
		{"CounterParallelIncrementsExistingKey", testCounterParallelExisting},
		{"LoginEvents", testLoginEvents},
		{"SettlePasswordLogin", testSettlePasswordLogin},
		{"SettlePasswordLoginRacesTheLock", testSettlePasswordLoginRacesTheLock},
		{"OneTimeLifecycle", testOneTimeLifecycle},
		{"OneTimeExpiry", testOneTimeExpiry},
		{"OneTimeConsumedExactlyOnce", testOneTimeExactlyOnce},
		{"OneTimeVoidAndDelete", testOneTimeVoidAndDelete},
		{"AuditAppendAndRead", testAuditAppendAndRead},
		{"AuditRejectsBrokenContinuation", testAuditRejectsBroken},
		{"AuditParallelAppendsKeepOneChain", testAuditParallel},
		{"SigningKeys", testSigningKeys},
		{"RotateSigningKeys", testRotateSigningKeys},
		{"RotateSigningKeysParallelAddsOnce", testRotateSigningKeysParallel},
		{"AuthRequests", testAuthRequests},
		{"UpdateAuthRequest", testUpdateAuthRequest},
		{"UpdateAuthRequestCodeUsedOnce", testUpdateAuthRequestParallel},
		{"DeleteAuthRequestsBefore", testDeleteAuthRequests},
		{"Tokens", testTokens},
		{"RotateRefreshToken", testRotateRefreshToken},
		{"RotateRefreshTokenExactlyOnce", testRotateRefreshTokenParallel},
		{"RevokeTokens", testRevokeTokens},
		{"DeleteTokensBefore", testDeleteTokens},
		{"CIBARequests", testCIBARequests},
		{"UpdateCIBARequestIssuesOnce", testUpdateCIBARequestParallel},
		{"UpgradeMarks", testUpgradeMarks},
		{"RewriteIBANs", testRewriteIBANs},
		{"RewriteOutboxPayloads", testRewriteOutboxPayloads},
		{"StaffAccounts", testStaffAccounts},
		{"StaffTOTPStepUsedOnce", testStaffTOTPStepParallel},
		{"StaffSessions", testStaffSessions},
		{"StaffRequests", testStaffRequests},
		{"StaffRequestDecidedOnce", testStaffRequestDecidedOnce},
		{"StaffKeys", testStaffKeys},
		{"StaffKeyUsedOnce", testStaffKeyUsedOnce},
		{"StaffLastFactorParallel", testStaffLastFactorParallel},
		{"StaffChallenges", testStaffChallenges},
		{"StaffExternalID", testStaffExternalID},
		{"StaffRequestFailed", testStaffRequestFailed},
		{"PersonLocks", testPersonLocks},
		{"PersonsByBirthDate", testPersonsByBirthDate},
		{"SearchAudit", testSearchAudit},
		{"Mailbox", testMailbox},
		{"MailboxParallel", testMailboxParallel},
		{"MailboxNotices", testMailboxNotices},
		{"AssistantTurns", testAssistantTurns},
		{"AssistantTurnsParallel", testAssistantTurnsParallel},
		{"Emails", testEmails},
		{"EmailMessageMails", testEmailMessageMails},
		{"MailQueue", testMailQueue},
		{"MailQueueParallelClaimers", testMailQueueParallelClaimers},
		{"Representations", testRepresentations},
		{"RepresentationEndedOnce", testRepresentationEndedOnce},
		{"ApproveTxReadsRepresentations", testApproveTxReadsRepresentations},
		{"Intakes", testIntakes},
		{"IntakesClaimedOnce", testIntakesClaimedOnce},
		{"IntakeDeletedWithLetter", testIntakeDeletedWithLetter},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.fn(t, newStore(t)) })
	}
}

// at returns a fixed UTC time with microsecond precision, as stored.
func at(minutes int) time.Time {
	return time.Date(2026, 11, 29, 8, 0, 0, 123456000, time.UTC).Add(time.Duration(minutes) * time.Minute)
}
