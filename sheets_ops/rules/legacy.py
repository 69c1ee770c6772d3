"""The Type, Complex, Voicemail Sender and Text Gateway rows that earlier versions seeded
into the Rules tab. sheets-ops understands these by itself now (rules/kinds.py, calls.py); a
Rules tab that still holds them word for word is read as holding none of them, and what the
owner wrote there counts. Kept to recognise them, never applied."""

from __future__ import annotations

from sheets_ops.model import COMPLEX, TEXT, TYPE, VOICEMAIL

LEGACY_RULES: frozenset[tuple[str, str, str]] = frozenset(
    (
        (
            TYPE,
            "certificate, certificates, COI, cert, certs, cert holder, certificate holder, "
            "proof of insurance, proof of coverage, evidence of insurance, additional insured, "
            "ACORD 25",
            "COI",
        ),
        (
            TYPE,
            "endorse, endorsement, add vehicle, remove vehicle, add driver, remove driver, "
            "add a driver, add a vehicle, add a truck, add a car, add a location, "
            "driver change, add location, new location, change of address, mailing address, "
            "new class, payroll change, "
            "/\\b(increase|raise|raising|lower)\\b.{0,20}\\blimits?\\b/, "
            "/\\badd(ed|ing)?\\b.{0,40}\\b(to|on)\\b.{0,20}\\b(policy|insurance|coverage)\\b/, "
            "/\\badd(ed)?\\b.{0,30}\\bas an? (driver|additional insured)\\b/, "
            "/\\bremove\\b.{0,40}\\b(from|off)\\b.{0,20}\\b(policy|insurance)\\b/",
            "Endorsement",
        ),
        (
            TYPE,
            "invoice, bill, billing, payment, payments, paid, autopay, past due, premium due, "
            "refund, W-9, audit, premium audit, finance charge, payment link",
            "Billing",
        ),
        (
            TYPE,
            "claim, accident, damage, damaged, loss, injured, injury, hurt, stolen, theft, "
            "break-in, flooded, burst, fire, hail, fender bender, scraped, cracked, collision, "
            "adjuster, incident, rear-ended, vandalism",
            "Claim",
        ),
        (
            TYPE,
            "renewal, renew, renews, renewing, remarket, shop it, expiring, expiration, "
            "renewal quote, questionnaire",
            "Renewal",
        ),
        (
            TYPE,
            "cancel, cancellation, cancelling, canceling, non-renew, sold the business, "
            "sold the building, close the policy",
            "Cancellation",
        ),
        (
            COMPLEX,
            "waiver of subrogation, primary non-contributory, primary and noncontributory, "
            "primary & non-contributory, additional insured, new location, new class, "
            "higher limits, increase limits, raise the limits, injured, injury, hurt, broken arm, "
            "/\\$\\s?[2-9]\\s?m\\b/",
            "Yes",
        ),
        (
            VOICEMAIL,
            "/@ringcentral\\.com$/, /^voice-noreply@google\\.com$/, "
            "/^(new )?(voice ?mail|voice message)\\b/",
            "Voicemail",
        ),
        (
            TEXT,
            "/^\\+?1?\\d{10}@/, /@(txt|sms|mms)\\./, /@(vtext|vzwpix|tmomail|mms\\.att|"
            "txt\\.att|messaging\\.sprintpcs)\\./",
            "Text",
        ),
    )
)
