"""The demo agency's sample data: Lakeshore Insurance Group's team, accounts, routing and
holidays, a week of service mail (as written, for `demo.py` to move to the days before now) and
a policy export. All fictional: 555 numbers, `.example` domains."""

from __future__ import annotations

from dataclasses import dataclass

TEAM_ROWS = [
    ("Dana Ruiz", "dana@lakeshore-insurance.example", "Owner", "No", "", ""),
    ("Marcus Lee", "marcus@lakeshore-insurance.example", "Ops Manager", "No", "", "Dana Ruiz"),
    ("Priya Shah", "priya@lakeshore-insurance.example", "Account Manager", "No", "", "Marcus Lee"),
    ("Tom Becker", "tom@lakeshore-insurance.example", "CSR", "Yes", "", "Alicia Gomez"),
    ("Alicia Gomez", "alicia@lakeshore-insurance.example", "CSR", "Yes", "", "Tom Becker"),
    ("Sam Ortiz", "sam@lakeshore-insurance.example", "CSR", "No", "2026-12-04", "Tom Becker"),
]

ACCOUNT_ROWS = [
    (
        "Brightline Electric LLC",
        "@brightline-electric.example",
        "(312) 555-0147",
        "GL-4481920; WC-2209381; CA-7712034",
        "Priya Shah",
        "GC certificates need additional insured + waiver wording; send to jobs@ too.",
    ),
    (
        "Harbor Street Bakery",
        "maria@harborstreetbakery.example",
        "(312) 555-0110",
        "BOP-5512093",
        "Alicia Gomez",
        "Owner prefers phone calls before noon.",
    ),
    (
        "Northgate Logistics Inc",
        "@northgate-logistics.example",
        "(708) 555-0162",
        "CA-8830127; CARGO-118204; UMB-220931",
        "Priya Shah",
        "Fleet schedule kept by Kevin; all vehicle changes need VIN and garaging address.",
    ),
    (
        "Maple Dental Group",
        "office@mapledental.example; @mapledental.example",
        "(847) 555-0199",
        "BOP-7730014; PL-3301982",
        "Tom Becker",
        "",
    ),
    (
        "Cedar Ridge Landscaping",
        "@cedarridge-land.example",
        "(630) 555-0133",
        "GL-6620381; CA-6620382; WC-6620383",
        "Alicia Gomez",
        "Seasonal payroll: audit in March.",
    ),
    (
        "Summit Property Management",
        "@summitpm.example",
        "(312) 555-0175",
        "PKG-9910245; UMB-9910246",
        "Priya Shah",
        "Certificates for tenants' vendors: always list Summit PM as certificate holder.",
    ),
    (
        "Lakeview Auto Repair",
        "lakeviewauto@mail.example",
        "(773) 555-0108",
        "GAR-4412087",
        "Tom Becker",
        "",
    ),
    (
        "Oak & Iron Fabrication",
        "@oakandiron.example",
        "(815) 555-0121",
        "GL-3390021; WC-3390022",
        "Priya Shah",
        "New class of business needs underwriting.",
    ),
]

ROUTING_ROWS = [
    ("COI", "On-duty CSR", "Account Owner", 8, 24, "Client; Policy #; Certificate Holder"),
    (
        "Endorsement",
        "Account Owner",
        "Account Manager",
        24,
        24,
        "Client; Policy #; Effective Date; What changes",
    ),
    ("Billing", "On-duty CSR", "Account Owner", 16, 24, "Client; Policy #"),
    ("Claim", "Account Owner", "Ops Manager", 4, 8, "Client; Policy #; Date of Loss"),
    ("Renewal", "Account Owner", "Account Manager", 40, 24, "Client; Policy #"),
    (
        "Cancellation",
        "Account Owner",
        "Account Manager",
        16,
        24,
        "Client; Policy #; Effective Date",
    ),
    ("Other", "On-duty CSR", "Ops Manager", 24, 24, "Client"),
]

HOLIDAY_ROWS = [
    ("2026-11-26", "Thanksgiving Day"),
    ("2026-11-27", "Day after Thanksgiving"),
    ("2026-12-24", "Christmas Eve"),
    ("2026-12-25", "Christmas Day"),
    ("2027-01-01", "New Year's Day"),
    ("2027-01-18", "Martin Luther King Jr. Day"),
    ("2027-05-31", "Memorial Day"),
    ("2027-07-05", "Independence Day (observed)"),
    ("2027-09-06", "Labor Day"),
]


@dataclass(frozen=True)
class Sample:
    when: str  # agency local time
    sender: str
    subject: str
    body: str
    html: bool = False
    reply_to: int = 0  # the sample this one answers (its In-Reply-To)
    follows: int = 0  # the sample a text or call without headers follows up on

    @property
    def follow_up(self) -> bool:
        """Whether intake should join this one to an earlier request rather than add a row."""
        return bool(self.reply_to or self.follows)


SAMPLES = [
    Sample(
        "2026-11-16 08:12",
        "Jen Alvarez <jalvarez@brightline-electric.example>",
        "Certificate needed - Riverside Mall project",
        "Hi, can you send a COI for our GL policy GL-4481920 to Riverside Mall Partners LLC, "
        "400 River Rd, Chicago IL 60607? They need it before we start on 11/20.\n\nThanks,\n"
        "Jen Alvarez\nBrightline Electric LLC",
    ),
    Sample(
        "2026-11-16 09:47",
        "Kevin Walsh <kwalsh@northgate-logistics.example>",
        "Add 2025 Freightliner to auto policy",
        "Please add a 2025 Freightliner Cascadia, VIN 3AKJHHDR5RSAB1234, garaged at 1800 "
        "Industrial Dr, Joliet, to CA-8830127 effective 12/1. Lienholder info attached "
        "separately.\n\nKevin Walsh\nFleet Manager",
    ),
    Sample(
        "2026-11-16 10:05",
        "Maria Chen <maria@harborstreetbakery.example>",
        "Question about my invoice",
        "Hello, I got an invoice for $1,842 but I thought my BOP was paid in full in June. "
        "Can someone check? Maria",
    ),
    Sample(
        "2026-11-16 11:30",
        "RingCentral <notify@ringcentral.com>",
        "New Voice Message from (773) 555-0108",
        "You have a new voice message.\nFrom: (773) 555-0108\nDuration: 00:00:41\n\n"
        "Transcription: Hi this is Ray at Lakeview Auto, one of our customer's cars got "
        "scraped in the bay this morning, I need to know if that's covered, call me back.",
    ),
    Sample(
        "2026-11-16 14:22",
        "Dr. Anita Rao <anita@mapledental.example>",
        "COI for our new landlord",
        "Our new landlord, Oakbrook Commons LLC, needs to be added as additional insured on "
        "our BOP-7730014. Certificate to leasing@oakbrookcommons.example please.",
    ),
    Sample(
        "2026-11-17 08:03",
        "Luis Ortega <luis@cedarridge-land.example>",
        "Fender bender this morning - one of our trucks",
        "One of our crew trucks rear-ended a car at Roosevelt & 59th around 7:30. Nobody "
        "seriously hurt but the other driver said her neck hurts. Policy CA-6620382. What "
        "do we do?\n\nLuis Ortega, Cedar Ridge Landscaping",
    ),
    Sample(
        "2026-11-17 09:15",
        "Summit PM Vendor Desk <vendors@summitpm.example>",
        "COI request: Ace Window Cleaning for 200 W Monroe",
        "Please issue a certificate naming Summit Property Management as certificate "
        "holder with waiver of subrogation and primary non-contributory wording. "
        "Needed by Friday.",
    ),
    Sample(
        "2026-11-17 10:40",
        "+13125550198@txt.sms-gateway.example",
        "SMS from +1 312-555-0198",
        "hey its Jen from brightline, did the riverside cert go out? GC is asking",
        follows=1,
    ),
    Sample(
        "2026-11-17 13:05",
        "Greg Novak <greg@oakandiron.example>",
        "Adding powder coating - need coverage",
        "We're starting a powder coating line in January at our Rockford shop. That's a new "
        "class of business for us I think. What do you need from me to get it on GL-3390021?",
    ),
    Sample(
        "2026-11-17 15:50",
        "Accounts Payable <ap@northgate-logistics.example>",
        "Autopay failed for November",
        "Our bank changed routing numbers and the November autopay bounced. Can you resend "
        "the payment link for UMB-220931?",
    ),
    Sample(
        "2026-11-18 08:30",
        "Maria Chen <maria@harborstreetbakery.example>",
        "RE: Question about my invoice",
        "Following up on this - the due date is Monday. Can someone call me?\n\n"
        "> Hello, I got an invoice for $1,842 but I thought my BOP was paid in full.",
        reply_to=3,
    ),
    Sample(
        "2026-11-18 09:10",
        "Google Voice <voice-noreply@google.com>",
        "New voicemail from (630) 555-0133",
        'Voicemail from (630) 555-0133 at 9:08 AM\nLength: 0:58\n\n"Hi, Luis at Cedar '
        "Ridge again, the adjuster hasn't called. Claim from yesterday. Please call back.\"",
        follows=6,
    ),
    Sample(
        "2026-11-18 11:45",
        "Tony Russo <tony.russo@mail.example>",
        "Please cancel my policy",
        "I sold the building on 11/15. Please cancel the property coverage effective that "
        "date and send me the refund. Tony Russo",
    ),
    Sample(
        "2026-11-18 14:00",
        "Jen Alvarez <jalvarez@brightline-electric.example>",
        "Renewal coming up - can you remarket the work comp?",
        "Our WC-2209381 renews 1/15. Premium went up a lot last year; can you shop it? "
        "Payroll is about the same.",
    ),
    Sample(
        "2026-11-19 08:20",
        "Property Manager <pm@summitpm.example>",
        "Renewal questions for our package policy",
        "<html><body><p>Hi team,</p><p>Before our <b>PKG-9910245</b> renewal on 2/1, "
        "can you tell us whether the <i>equipment breakdown</i> limit can go up to "
        "$500,000?</p><p>Thanks!</p></body></html>",
        html=True,
    ),
    Sample(
        "2026-11-19 10:00",
        "Kevin Walsh <kwalsh@northgate-logistics.example>",
        "Fwd: Driver change",
        "---------- Forwarded message ---------\nFrom: HR <hr@northgate-logistics.example>\n"
        "Subject: Driver change\n\nPlease remove Mike Dunn (terminated 11/14) and add Sara "
        "Kim, DL K520-4471-8812, from 11/24.",
    ),
    Sample(
        "2026-11-19 13:30",
        "Dr. Anita Rao <anita@mapledental.example>",
        "Change of mailing address",
        "We moved our billing office to 75 Lake Cook Rd Suite 210, Deerfield IL 60015. "
        "Please update all policies.",
    ),
    Sample(
        "2026-11-20 09:05",
        "Greg Novak <greg@oakandiron.example>",
        "Premium audit letter",
        "We got a premium audit request for WC-3390022 from the carrier. Is this normal? "
        "Who do I send payroll records to?",
    ),
    Sample(
        "2026-11-20 11:25",
        "Jen Alvarez <jalvarez@brightline-electric.example>",
        "",
        "Also need a certificate for Loop Tower Builders, same wording as Riverside, "
        "by Tuesday EOD.",
    ),
    Sample(
        "2026-11-23 08:40",
        "Luis Ortega <luis@cedarridge-land.example>",
        "Increase liability limits before spring contracts",
        "The park district contract wants $2M per occurrence on GL-6620381. Can we raise "
        "the limits effective 1/1?",
    ),
    Sample(
        "2026-11-23 16:55",
        "+17085550162@mms.sms-gateway.example",
        "MMS from +1 708-555-0162",
        "Kevin here. Truck 14 windshield cracked by a rock on I-80. Claim or just pay it?",
    ),
    Sample(
        "2026-11-24 10:15",
        "Maria Chen <maria@harborstreetbakery.example>",
        "Need a certificate for the farmers market",
        "The Green City farmers market needs a COI for the season starting in April. "
        "Certificate holder: Green City Market, 1750 N Clark St, Chicago IL 60614.",
    ),
    Sample(
        "2026-11-25 12:00",
        "Kevin Walsh <kwalsh@northgate-logistics.example>",
        "Cargo claim - damaged shipment",
        "A load of glass panels arrived broken at the customer in Gary. Shipper is filing "
        "against us. CARGO-118204. Photos to follow.",
    ),
]


RENEWAL_ROWS = [  # a sample policy export: client, policy, carrier, line, days to expiry, premium
    ("Brightline Electric LLC", "GL-4481920", "Acuity", "GL", 34, 18_400),
    ("Brightline Electric LLC", "WC-2209381", "Accident Fund", "WC", 88, 26_950),
    ("Harbor Street Bakery", "BOP-5512093", "Cincinnati", "BOP", 61, 3_120),
    ("Northgate Logistics Inc", "CA-8830127", "Progressive", "CA", 24, 64_300),
    ("Maple Dental Group", "PL-3301982", "MedPro", "PL", 105, 9_870),
    ("Cedar Ridge Landscaping", "GL-6620381", "Erie", "GL", 140, 7_450),
]
