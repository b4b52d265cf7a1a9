// Package password owns what Pforte knows about passwords: the policy that
// decides whether a new password is acceptable (and says why not, in German or
// English words a person understands) and the hashing of passwords with
// argon2id into PHC strings, with rehash detection, an optional pepper and a
// bounded number of hashes running at once.
//
// It does not own accounts, login attempt limits, password changes or resets
// (package account), or where hashes are stored (package store). It logs
// nothing; no error or message it returns contains a password, a personal
// datum or a pepper.
//
// # Normalisation
//
// Every password is NFKC-normalised (Normalize) before its length is counted
// (in runes), before it is checked and before it is hashed, so that inputs a
// person cannot tell apart ("ﬁ" and "fi", a precomposed "ü" and "u" with a
// combining diaeresis) are the same password. Any Unicode is allowed except
// invalid UTF-8 and control characters; spaces are allowed.
//
// # Policy
//
// Policy.Check returns the reasons a password is refused, in a fixed order:
//
//	invalid UTF-8 ─▶ [InvalidUTF8]            (nothing else is checked)
//	control chars ─▶ [ControlCharacters]      (nothing else is checked)
//	too long      ─▶ [TooLong]                (nothing else is checked)
//	too short     ─▶ TooShort, then the content checks below
//	content       ─▶ Common, ContainsPersonalData, ContainsServiceName
//	strength      ─▶ TooWeak, only when no other reason applies
//
// Common compares the password with a blocklist built once per process: all
// 30,000 entries of the zxcvbn dependency's password frequency list plus
// blocklist_de.txt (common German passwords and words) plus generated German
// patterns (seasons and months with the years 1950–2035, "passwort" and
// "kennwort" with digits, walks on the German QWERTZ keyboard). The
// comparison is case-insensitive, also with umlauts transliterated (ä→ae,
// ö→oe, ü→ue, ß→ss), with common leetspeak undone (4→a, 3→e, 1→i or l, 0→o,
// 5→s, $→s, @→a), with spaces and '-', '_', '.' removed, and with a leading
// or trailing run of at most six digits, punctuation or symbols stripped: so
// "Passwort2024!", "P4ssw0rt" and "Ich liebe Dich" are all refused. Longer
// affixes are left to the strength estimate, as they add real guesses.
//
// ContainsPersonalData looks for the KVNR (also its nine digits), the birth
// date in the usual spellings (1970-03-14 is looked for as 14031970, 140370,
// 19700314, 700314, 03141970, 1431970, 14370, 031970, 197003 and 1970;
// separators in the password are ignored, so 14.03.1970 is found too), the family name, given
// names, birth name, city and street. Words of four letters or more are found
// anywhere in the password; three-letter words only as a whole word, as they
// occur by chance inside longer words ("Eva" in "Evaluation"). ContainsServiceName
// looks for "pforte", "krankenkasse" and the words of Policy.InsurerName.
//
// TooWeak: the password's first 64 characters (the estimator is slow on long
// inputs) are scored 0–4 by zxcvbn, with the personal and service words as
// user inputs; below Policy.MinScore the password is refused. Long passwords
// get no exemption: zxcvbn already scores real passphrases of 20 characters
// and more at 4 (it knows no German words, so they count as random letters),
// while the long passwords it scores low are repeats, keyboard walks and
// patterns such as "sommer2024sommer2024", which a length exemption would let
// through. zxcvbn indexes passwords by byte and scores most passwords with a
// non-ASCII character 0, so it is given an ASCII stand-in of the password
// (umlauts transliterated, other characters replaced one for one by ASCII
// characters the password does not use; see asciiForStrength).
//
// A Reason is a Code and, for TooShort and TooLong, the limit, so that
// Reason.Message can name it ("mindestens 12 Zeichen") for a raised
// MinLength. Policy.Strength gives the page's meter a score 0–4 that agrees
// with Check.
//
// # Hashing
//
// Hasher.Hash returns a PHC string
//
//	$argon2id$v=19$m=19456,t=2,p=1$<salt>$<key>
//
// with salt and key in unpadded standard base64 and the salt from
// crypto/rand. Hasher.Verify parses a stored string strictly, refuses
// parameters beyond the bounds of Params.Validate (salts down to 8 bytes are
// accepted) before any work (a corrupted
// row cannot make the process allocate 4 GiB), recomputes the key with the
// stored parameters and compares in constant time; it reports needsRehash
// when a correct password's hash was made with other parameters than the
// Hasher's, so the caller can store Hash's new result.
//
// The pepper: when the Hasher has one, the argon2id input is not the
// normalised password but
//
//	HMAC-SHA256(key = pepper, message = UTF-8 bytes of Normalize(password))
//
// (32 bytes); salt and parameters are unchanged. The PHC string does not
// record whether a pepper was used: a Hasher with a pepper hashes and
// verifies with the pepper only, a Hasher without one only without. A hash
// made with a pepper therefore never verifies without it, and the reverse.
// Migration: configure the pepper before the first account exists. To add a
// pepper (or change it) later, the caller records next to each hash which
// pepper it was made with (a pepper id column), keeps one Hasher per pepper,
// verifies with the Hasher the row names and, after a successful login,
// stores a new hash from the current Hasher; rows that never log in again
// are reset by letter. A pepper that is lost makes every hash made with it
// unverifiable.
//
// Unknown accounts: DummyVerify does the same work as Verify against a real
// hash computed when the Hasher is built, so a login for an unknown person
// takes as long as one with a wrong password.
//
// # The bounded pool
//
// Each argon2id computation holds Params.Memory KiB. At most maxConcurrent
// run at once (a buffered channel used as a semaphore), so hashing memory is
// bounded by maxConcurrent × Memory. That memory is kept from one hash to the
// next, one workspace per slot: argon2id is computed here (argon2id.go, RFC
// 9106), not with golang.org/x/crypto/argon2, because that package allocates
// and clears the whole memory for every hash, which on a busy server costs a
// garbage collection every few logins; the tests compare both on random
// inputs and check the RFC's test vector. Callers beyond that wait, at most
// MaxWaiting of them (default 64) and each at most QueueTimeout (default 2 s);
// a caller that would be one too many, or that waited too long, gets ErrBusy,
// which the HTTP layer answers with 503 and Retry-After. A caller whose
// context ends while waiting gets the context's error.
package password
