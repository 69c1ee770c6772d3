"""What intake reads from one message, shape by shape: the ways people write a type, a
policy number, a certificate holder and a deadline, in English and Spanish, and the ways
phone systems bring in a voicemail or a text.

The agency, its accounts and every message here are made up for these tests, written in
the shapes the issue names rather than copied from any inbox: they are a check that the
rules hold on words they were not written from. Messages are sent on Tuesday 1 December 2026
at 9:00 in Milwaukee (America/Chicago) unless a case says otherwise.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from sheets_ops.rules.directory import Directory, from_accounts_csv
from sheets_ops.rules.message import parse_message
from sheets_ops.rules.threads import Threads
from sheets_ops.rules.understand import Understanding, understand

ZONE = ZoneInfo("America/Chicago")
SENT = datetime(2026, 12, 1, 9, 0, tzinfo=ZONE)
ACCOUNTS = """\
Client,Contact Emails,Phone,Policies,Account Owner,Special Instructions
Pinecrest Plumbing Inc,@pinecrestplumbing.example,(414) 555-0101,\
GL-7781234; CA 5512 0613; WC-330981,Dana,
Rosa Delgado,rosa.delgado@gmail.com,+1 720 555 0142,PA-88120613; HO-4410927,Luis,
Bluebird Bakery LLC,owner@bluebirdbakes.example,608-555-0177,BOP 22-40917,Dana,
Harlan & Sons Roofing,jim@harlanroofing.example,262.555.0190,GL-5039912; CA-5039913,Luis,
"""
PLUMBER = "Mike Ferris <mike@pinecrestplumbing.example>"
ROSA = "Rosa Delgado <rosa.delgado@gmail.com>"


@pytest.fixture(scope="module")
def directory(tmp_path_factory: pytest.TempPathFactory) -> Directory:
    path = Path(tmp_path_factory.mktemp("accounts")) / "accounts.csv"
    path.write_text(ACCOUNTS, "utf-8")
    return from_accounts_csv(path)


def email(
    body: str,
    subject: str = "Request",
    sender: str = PLUMBER,
    sent: datetime = SENT,
    headers: dict[str, str] | None = None,
) -> bytes:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = "service@milwaukee-agency.example"
    msg["Subject"] = subject
    msg["Date"] = format_datetime(sent)
    msg["Message-ID"] = f"<{abs(hash((body, subject, sender)))}@example>"
    for name, value in (headers or {}).items():
        msg[name] = value
    msg.set_content(body)
    return bytes(msg)


def read(raw: bytes, directory: Directory) -> Understanding:
    parsed = parse_message(raw, SENT.astimezone(UTC), SENT.astimezone(UTC))
    return understand(parsed, directory, Threads(), ZONE)


def fields(u: Understanding) -> dict[str, Any]:
    return u.as_json()


# -- deadlines ------------------------------------------------------------------------------

DEADLINES = [
    ("Can you get the certificate over by Friday?", date(2026, 12, 4)),
    ("We need it EOD tomorrow for the bid.", date(2026, 12, 2)),
    ("Please have it to me first thing Monday.", date(2026, 12, 7)),
    ("The GC needs this within 48 hours or we can't start.", date(2026, 12, 3)),
    ("Please send no later than 12/11.", date(2026, 12, 11)),
    ("Need the cert before the 15th, that's when the job starts.", (date(2026, 12, 15),)),
    ("A week from today is the latest they'll take it.", date(2026, 12, 8)),
    ("Could you send it by December 9?", date(2026, 12, 9)),
    ("Could you send a certificate today please", date(2026, 12, 1)),
    ("Need a certificate ASAP.", None),
    ("No rush on the certificate, whenever you get a chance.", None),
]


@pytest.mark.parametrize(("sentence", "due"), DEADLINES, ids=[d[0][:30] for d in DEADLINES])
def test_a_deadline_in_the_words_people_use(
    sentence: str, due: date | tuple[date] | None, directory: Directory
) -> None:
    u = read(email(f"Hi,\n\n{sentence} Holder is Lakeside Towers LLC.\n\nMike"), directory)
    if isinstance(due, tuple):  # "before the 15th": the 15th, or the day before
        assert u.deadline in (due[0], date.fromordinal(due[0].toordinal() - 1))
    else:
        assert u.deadline == due


NOT_DEADLINES = [
    ("Our renewal is 1/15. Can you send a copy of the current invoice?", "Billing"),
    ("One of our vans was rear-ended on 11/28 on I-94. Who do I call?", "Claim"),
    ("I paid the bill on 11/20 by card but it still shows due. Can you check?", "Billing"),
]


@pytest.mark.parametrize(("body", "kind"), NOT_DEADLINES, ids=[n[1] for n in NOT_DEADLINES])
def test_renewal_dates_dates_of_loss_and_told_dates_are_not_deadlines(
    body: str, kind: str, directory: Directory
) -> None:
    u = read(email(body, "Question"), directory)
    assert (u.type, u.deadline) == (kind, None)


def test_a_date_inside_quoted_agency_mail_is_not_the_clients_deadline(
    directory: Directory,
) -> None:
    body = (
        "Yes please go ahead.\n\nMike\n\n"
        "On Mon, Nov 30, 2026 at 4:10 PM Service <service@milwaukee-agency.example> wrote:\n"
        "> We need your signed form back by 12/18 to add the van.\n"
    )
    u = read(email(body, "RE: adding the van"), directory)
    assert u.deadline is None


def test_a_cancellation_takes_its_effective_date(directory: Directory) -> None:
    u = read(
        email("Please cancel our commercial auto policy effective 12/31. We sold the trucks."),
        directory,
    )
    # No number is written: Policy # stays blank for the CSR, who knows which auto policy.
    assert (u.type, u.deadline, u.policy) == ("Cancellation", date(2026, 12, 31), "")


def test_relative_dates_resolve_in_the_agency_zone_not_the_date_headers(
    directory: Directory,
) -> None:
    # Sent at 04:30 UTC on Wednesday: still Tuesday evening in Milwaukee, so "tomorrow" is
    # Wednesday the 2nd, not Thursday.
    late = datetime(2026, 12, 2, 4, 30, tzinfo=UTC)
    raw = email("Need a certificate for Lakeside Towers LLC tomorrow please.", sent=late)
    parsed = parse_message(raw, late, late)
    u = understand(parsed, directory, Threads(), ZONE)
    assert u.deadline == date(2026, 12, 2)


# -- Spanish and Spanglish ------------------------------------------------------------------

SPANISH = [
    (
        "Hola, necesito agregar un carro a mi póliza PA-88120613, es un Honda Civic 2022. "
        "Lo necesito para el viernes. Gracias, Rosa",
        {"type": "Endorsement", "policy_number": "PA-88120613", "deadline": "2026-12-04"},
    ),
    (
        "Buenos días, quiero cancelar mi póliza de la casa a partir del 31 de diciembre "
        "porque la vendimos. Rosa Delgado",
        {"type": "Cancellation", "policy_number": None, "deadline": "2026-12-31"},
    ),
    (
        "Hola, me pueden mandar un certificado de seguro para el dueño del local, Plaza "
        "Norte LLC? Lo necesito mañana. Gracias",
        {"type": "COI", "certificate_holder": "Plaza Norte LLC", "deadline": "2026-12-02"},
    ),
    (
        "Hi, necesito el COI para mi landlord ASAP, es para Westgate Properties. Thanks!",
        {"type": "COI", "certificate_holder": "Westgate Properties", "deadline": None},
    ),
    (
        "Tuve un accidente ayer en la calle 38, chocaron mi carro por atrás. ¿Qué hago? "
        "Mi póliza es PA-88120613",
        {"type": "Claim", "deadline": None, "complex": False},
    ),
    (
        "Hola, no me llegó la factura de este mes y quiero pagar con tarjeta antes del 15.",
        {"type": "Billing"},
    ),
]


@pytest.mark.parametrize(("body", "want"), SPANISH, ids=[s[1]["type"] for s in SPANISH])
def test_spanish_messages_are_understood_like_english_ones(
    body: str, want: dict[str, Any], directory: Directory
) -> None:
    got = fields(read(email(body, "Hola", sender=ROSA), directory))
    assert got["client"] == "Rosa Delgado"
    assert {k: got[k] for k in want} == want


# -- policy numbers -------------------------------------------------------------------------

SPELLINGS = [
    "our GL7781234 policy",
    "policy GL 778-1234",
    "policy no. 7781234",
    "pol# gl-7781234",
    "the GL policy, number GL-\n7781234,",
]


@pytest.mark.parametrize("spelling", SPELLINGS)
def test_a_policy_number_in_any_spelling_is_written_as_accounts_writes_it(
    spelling: str, directory: Directory
) -> None:
    body = f"Please send a certificate on {spelling} to Lakeside Towers LLC as holder."
    assert read(email(body), directory).policy == "GL-7781234"


def test_the_one_ending_in_names_the_clients_policy(directory: Directory) -> None:
    # Rosa's auto policy ends in 0613, and so does the plumber's: the sender decides.
    u = read(
        email("Please add my son as a driver on the one ending in 0613.", sender=ROSA), directory
    )
    assert u.policy == "PA-88120613"
    u = read(email("Remove the 2015 van from the policy ending in 0613, we sold it."), directory)
    assert u.policy == "CA 5512 0613"


def test_a_policy_number_spoken_or_split_across_a_line_is_found(directory: Directory) -> None:
    spoken = (
        "You have a new voicemail.\nFrom: (414) 555-0101\n\nTranscription: hi it's Mike, "
        "it's about policy G L seven seven eight one two three four, please call me back"
    )
    u = read(
        email(spoken, "Voicemail from (414) 555-0101", sender="VM <vm@pbx.example>"), directory
    )
    assert u.policy == "GL-7781234"
    split = "Please send a certificate on our policy GL-\n7781234 to Lakeside Towers LLC."
    assert read(email(split), directory).policy == "GL-7781234"


NOT_POLICIES = [
    "The VIN is 1FTBR1C82MKA12345, please add it.",
    "Claim # 7781299 was opened Monday.",
    "The police report number is 2026-118834.",
    "My loan number with the bank is 0048812231.",
    "Call me back at 414 555 0199 when you can.",
    "Driver's license D1234567 for the new driver.",
]


@pytest.mark.parametrize("sentence", NOT_POLICIES, ids=[s.split()[1] for s in NOT_POLICIES])
def test_other_numbers_are_never_a_policy_number(sentence: str, directory: Directory) -> None:
    u = read(email(f"Hi, question about the truck. {sentence}", sender=ROSA), directory)
    assert u.policy == ""


# -- certificate holders --------------------------------------------------------------------

HOLDERS = [
    (
        "Please issue a COI with the following:\n\nCertificate Holder:\nLakeside Towers LLC\n"
        "1200 N Water St\nMilwaukee, WI 53202",
        "Lakeside Towers LLC",
    ),
    ("Can you please name Harbor Point Marina as certificate holder?", "Harbor Point Marina"),
    ("We need a certificate made out to Greenfield School District.", "Greenfield School District"),
    (
        "The bank needs evidence of insurance. Mortgagee clause:\nFirst Federal Savings Bank, "
        "ISAOA/ATIMA\nPO Box 4410, Dallas TX 75201",
        "First Federal Savings Bank",
    ),
    (
        "Forwarding the requirements from the venue.\n\n---------- Forwarded message ---------\n"
        "From: Events <events@summerfest.example>\nSubject: insurance requirements\n\n"
        "Vendors must provide a certificate listing Milwaukee World Festival Inc as "
        "certificate holder and additional insured.",
        "Milwaukee World Festival Inc",
    ),
    ("Menomonee Falls Village needs a new certificate by Friday.", "Menomonee Falls Village"),
]


@pytest.mark.parametrize(("body", "holder"), HOLDERS, ids=[h[1] for h in HOLDERS])
def test_the_certificate_holder_is_the_holders_legal_name(
    body: str, holder: str, directory: Directory
) -> None:
    u = read(email(body, "Certificate"), directory)
    assert (u.type, u.holder) == ("COI", holder)


def test_the_insured_a_street_or_a_weekday_is_never_the_holder(directory: Directory) -> None:
    for body in (
        "Can you send a certificate for Pinecrest Plumbing Inc to me by Monday?",
        "Need a certificate for 1200 N Water St by Thursday.",
        "Certificate needed for Monday please.",
    ):
        u = read(email(body, "Certificate"), directory)
        assert (u.type, u.holder) == ("COI", ""), body


# -- type by evidence -----------------------------------------------------------------------

KINDS = [
    (
        "Back window",
        "A branch came down on my car last night and cracked the back window. Is that covered "
        "under my auto policy?",
        "Claim",
        True,
    ),
    (
        "Question",
        "Is hail damage to the roof covered under our property policy? Asking before storm season.",
        "Other",
        True,
    ),
    (
        "Invoice question",
        "I got an invoice for $412 that I think I already paid by card. Our renewal is in "
        "March. Can you check what happened?",
        "Billing",
        True,
    ),
    (
        "Quick question",
        "I don't want to file a claim, but would a small fender bender raise our rate?",
        "Other",
        True,
    ),
    (
        "Looking for a quote",
        "We're opening a second bakery location in Madison and want a quote for general "
        "liability. Who should I talk to?",
        "Other",
        True,
    ),
    (
        "December newsletter",
        "Winter safety tips for contractors. Read more on our blog. You are receiving this "
        "because you subscribed. Unsubscribe. Need a certificate? Visit our client portal.",
        "Other",
        False,
    ),
    (
        "Thanks!",
        "Got the certificate, thank you so much for the quick turnaround!",
        "Other",
        False,
    ),
    (
        "Automatic reply: Certificate",
        "I am out of the office until Monday December 7 with limited access to email. "
        "For urgent matters call the office.",
        "Other",
        False,
    ),
    (
        "Your mailbox is almost full",
        "Your email storage is 98% full. Verify your account now to avoid losing messages: "
        "click here to validate your password within 24 hours.",
        "Other",
        False,
    ),
    (
        "Raise our limits",
        "The new contract requires $2M per occurrence on our general liability. Can you "
        "raise the GL limits before we sign on the 10th?",
        "Endorsement",
        True,
    ),
    (
        "Renewal",
        "Our package renews 2/1 and the premium went up 30%. Can you shop it around?",
        "Renewal",
        True,
    ),
]


@pytest.mark.parametrize(("subject", "body", "kind", "new"), KINDS, ids=[k[0] for k in KINDS])
def test_the_type_is_what_the_client_asks_for(
    subject: str, body: str, kind: str, new: bool, directory: Directory
) -> None:
    u = read(email(body, subject, sender="Jen <owner@bluebirdbakes.example>"), directory)
    assert (u.type, u.new_request) == (kind, new)


def test_a_bounce_is_not_a_request(directory: Directory) -> None:
    raw = email(
        "This is the mail system at host mx.example.\n\nI'm sorry to have to inform you that "
        "your message could not be delivered to one or more recipients.\n\n"
        "<nobody@example.com>: host mx.example said: 550 5.1.1 User unknown",
        "Undelivered Mail Returned to Sender",
        sender="MAILER-DAEMON@mx.example",
    )
    assert not read(raw, directory).new_request


def test_complexity_follows_the_work_not_the_word(directory: Directory) -> None:
    def complex_(body: str, subject: str = "Request") -> bool:
        return read(email(body, subject), directory).complex

    assert complex_("Need a COI for Lakeside Towers LLC with them as additional insured.")
    assert not complex_("Need a COI for Lakeside Towers LLC, no additional insured needed.")
    assert complex_("We're adding a second location at 55 Main St, please add it to the GL.")
    assert not complex_("Please add our new 2024 Ford Transit to the auto policy.")
    assert not complex_("Our mailing address changed to PO Box 77, Wauwatosa WI.")


# -- channels and phone systems -------------------------------------------------------------

NOTIFICATIONS = [
    (  # an Asterisk-style PBX
        "PBX Voicemail <asterisk@pbx.milwaukee-agency.example>",
        "[PBX]: New message 3 in mailbox 100",
        "Dear Front Desk:\n\n\tjust wanted to let you know you were just left a 0:42 long "
        'message (number 3)\nin mailbox 100 from "PINECREST PLUMB" <4145550101>, on Tuesday, '
        "December 01, 2026 at 08:58:11 AM so you might\nwant to check it when you get a chance."
        "\n\nThanks!\n\n\t\t\t\t--Asterisk",
        "voicemail",
        "(414) 555-0101",
    ),
    (  # 3CX
        "3CX Phone System <noreply@3cx.milwaukee-agency.example>",
        "New voicemail from Pinecrest Plumbing (+14145550101)",
        "Hello Front Desk,\n\nYou have received a new voicemail from Pinecrest Plumbing "
        "(+14145550101).\nDuration: 00:00:35\n\nTranscription:\nHi it's Mike, I need a "
        "certificate for Lakeside Towers by Friday.\n",
        "voicemail",
        "(414) 555-0101",
    ),
    (  # 8x8
        "8x8 Voicemail <voicemail@8x8.example>",
        "Voicemail from 414-555-0101",
        "You have a new voicemail message.\n\nFrom: 414-555-0101\nReceived: 12/01/2026 "
        "8:58 AM\nLength: 0:51\n\nVoicemail transcript:\nyeah hi it's Mike from Pinecrest "
        "we need a certificate for Lakeside Towers thanks\n",
        "voicemail",
        "(414) 555-0101",
    ),
    (  # Vonage Business
        "Vonage Business <no-reply@vonage.example>",
        "New Voice Message from 14145550101",
        "You have a new voice message.\n\nFrom: 14145550101\nDate: Dec 1, 2026 8:58 AM\n"
        "Duration: 35 seconds\n\nTranscription: Hi this is Mike at Pinecrest, please call "
        "me about a certificate.\n",
        "voicemail",
        "(414) 555-0101",
    ),
    (  # Ooma
        "Ooma <voicemail@ooma.example>",
        "New voicemail from (414) 555-0101",
        "You have a new voicemail message from (414) 555-0101.\nLength: 1:02\n\n"
        "Message transcription: Hi, it's Mike, can you send over a certificate for Lakeside "
        "Towers.\n\nListen to the message in the Ooma app.",
        "voicemail",
        "(414) 555-0101",
    ),
    (  # Nextiva
        "Nextiva Voicemail <voicemail@nextiva.example>",
        "New Voicemail Received",
        "You have a new voicemail.\n\nCaller: PINECREST PLUMB (414) 555-0101\nMailbox: 200\n"
        "Duration: 00:41\n\nTranscript: hey it's Mike, need a certificate for Lakeside Towers "
        "when you get a sec\n",
        "voicemail",
        "(414) 555-0101",
    ),
    (  # Dialpad
        "Dialpad <voicemail@dialpad.example>",
        "New voicemail from +1 414-555-0101",
        "Pinecrest Plumbing (+1 414-555-0101) left you a voicemail.\n\nVoicemail transcript:\n"
        "Hi this is Mike, could you send a certificate over for Lakeside Towers.\n\nListen in "
        "Dialpad",
        "voicemail",
        "(414) 555-0101",
    ),
    (  # a Twilio-style SMS relay
        "SMS Relay <relay@sms-relay.milwaukee-agency.example>",
        "SMS from +14145550101",
        "From: +14145550101\nTo: +14145550000\nMessage: need a cert for lakeside towers "
        "today if possible",
        "text",
        "(414) 555-0101",
    ),
    (  # a carrier's email-to-SMS gateway
        "4145550101@vtext.example",
        "",
        "can u send the cert for lakeside towers",
        "text",
        "(414) 555-0101",
    ),
]


@pytest.mark.parametrize(
    ("sender", "subject", "body", "channel", "phone"),
    NOTIFICATIONS,
    ids=[
        "asterisk",
        "3cx",
        "8x8",
        "vonage",
        "ooma",
        "nextiva",
        "dialpad",
        "twilio",
        "email-to-sms",
    ],
)
def test_every_phone_system_brings_in_a_call_or_text_from_the_client(
    sender: str, subject: str, body: str, channel: str, phone: str, directory: Directory
) -> None:
    u = read(email(body, subject, sender=sender), directory)
    assert u.channel.value.lower() == channel
    assert u.call is not None and u.call.phone == phone
    assert (u.client, u.matched_by) == ("Pinecrest Plumbing Inc", "phone")
    assert u.new_request
    # What the caller asked, when the phone system transcribes it; a bare PBX notice has no
    # words to go on, and stays Other for the CSR to listen to.
    assert u.type == ("Other" if "[PBX]" in subject else "COI")


def test_a_withheld_caller_is_found_by_the_number_in_the_transcript(
    directory: Directory,
) -> None:
    body = (
        "You have a new voicemail from Unknown.\nDuration: 0:40\n\nTranscription:\nHi this is "
        "Rosa, my number is seven two zero five five five zero one four two, I want to add my "
        "daughter to the car insurance.\n"
    )
    u = read(email(body, "New voicemail from Unknown", sender="Voice <vm@pbx.example>"), directory)
    assert (u.channel.value, u.client, u.type) == ("Voicemail", "Rosa Delgado", "Endorsement")


def test_a_caller_number_in_any_format_finds_the_account(directory: Directory) -> None:
    for written in ("262.555.0190", "+1 (262) 555-0190", "12625550190", "262-555-0190"):
        subject = f"New voicemail from {written}"
        body = (
            f"You have a new voicemail.\nFrom: {written}\nDuration: 0:20\n\nTranscription: call me"
        )
        u = read(email(body, subject, sender="Voice <vm@pbx.example>"), directory)
        assert u.client == "Harlan & Sons Roofing", written


# -- how sure ----------------------------------------------------------------------------------


def test_a_field_read_from_weak_evidence_is_named_for_the_csr(directory: Directory) -> None:
    sure = read(
        email("Certificate holder: Lakeside Towers LLC. Policy GL-7781234. Need it by Friday."),
        directory,
    )
    assert sure.unsure == ()
    guessed = read(
        email(
            "Can you do a certificate for Lakeside Towers? Policy GL-9999999. Friday works.",
            "Certificate",
        ),
        directory,
    )
    assert set(guessed.unsure) >= {"Certificate Holder", "Policy #"}
    assert fields(guessed)["unsure"] == list(guessed.unsure)


# -- whole messages, every field at once --------------------------------------------------------

BAKERY = "Jen Park <owner@bluebirdbakes.example>"
ROOFER = "Jim Harlan <jim@harlanroofing.example>"
STRANGER = "Amy Lowe <amy.lowe@yahoo.example>"
WHOLE = [
    (
        PLUMBER,
        "Truck accident",
        "One of our service vans got hit in a parking lot on Wednesday. Nobody hurt. Driver got "
        "the other guy's info. How do I start a claim? Policy CA 5512 0613",
        {"type": "Claim", "deadline": None, "complex": False, "policy_number": "CA 5512 0613"},
    ),
    (
        ROOFER,
        "Worker fell",
        "One of our guys fell off a ladder at a job site this morning and went to the ER with a "
        "broken wrist. What do I need to do for workers comp?",
        {"type": "Claim", "complex": True},
    ),
    (
        BAKERY,
        "Add equipment",
        "We bought a new commercial oven ($18,000). Can it be added to our property coverage? "
        "BOP 22-40917",
        {"type": "Endorsement", "complex": True, "policy_number": "BOP 22-40917"},
    ),
    (
        BAKERY,
        "Payment",
        "Can I switch to monthly payments on my policy? The lump sum is tough this year.",
        {"type": "Billing"},
    ),
    (
        BAKERY,
        "Card on file",
        "Please update the card on file, the old one expired. I'll call with the new number.",
        {"type": "Billing"},
    ),
    (
        ROSA,
        "Pregunta",
        "¿Cuánto me va a costar la renovación de mi seguro de auto? Vence el 15 de enero.",
        {"type": "Renewal", "deadline": None},
    ),
    (
        ROSA,
        "Necesito ayuda",
        "Me robaron el carro anoche frente a mi casa. Ya hice el reporte de policía, número "
        "26-44812. ¿Qué hago ahora?",
        {"type": "Claim", "policy_number": None, "deadline": None},
    ),
    (
        ROSA,
        "cambio",
        "Me mudé a un nuevo apartamento, mi nueva dirección es 455 Colfax Ave Apt 3, Denver CO "
        "80203. Por favor actualicen mi póliza de auto.",
        {"type": "Endorsement", "complex": False},
    ),
    (
        PLUMBER,
        "Remove driver",
        "Please remove Tom Becker from our auto policy, he no longer works for us as of 11/30.",
        {"type": "Endorsement", "complex": False},
    ),
    (
        PLUMBER,
        "Umbrella",
        "The new city contract wants a $5M umbrella. We have $2M now. Can you increase it before "
        "Dec 15?",
        {"type": "Endorsement", "complex": True, "deadline": "2026-12-15"},
    ),
    (
        ROOFER,
        "COI request",
        "Hi - please send a certificate to Brookfield Residential LLC for the job on Elm St. They "
        "need to be additional insured with waiver of subrogation. Thanks, Jim",
        {"type": "COI", "certificate_holder": "Brookfield Residential LLC", "complex": True},
    ),
    (
        ROOFER,
        "Certificate",
        "Can you send an updated COI to the same people as last time? Their insurance person "
        "asked.",
        {"type": "COI", "certificate_holder": None},
    ),
    (
        BAKERY,
        "Cancel",
        "We're closing the bakery at the end of the month. Please cancel everything effective "
        "December 31st.",
        {"type": "Cancellation", "deadline": "2026-12-31"},
    ),
    (
        BAKERY,
        "Renewal",
        "Our BOP is up for renewal in February. Can you shop it? The premium keeps going up.",
        {"type": "Renewal", "deadline": None},
    ),
    (
        BAKERY,
        "audit",
        "We got a letter about a premium audit and need to send payroll figures by 12/15. Can "
        "you help?",
        {"type": "Billing", "deadline": "2026-12-15"},
    ),
    (
        STRANGER,
        "Quote",
        "Hi, I found you on Google. I'm looking for homeowners insurance for a house I'm buying, "
        "closing is Dec 18. Can you quote it?",
        {"type": "Other", "client": None, "new_request": True},
    ),
    (PLUMBER, "Re: Certificate", "Thanks, got it!", {"new_request": False}),
    (
        ROSA,
        "gracias",
        "Muchas gracias por su ayuda, ya recibí los documentos.",
        {"new_request": False},
    ),
    (
        PLUMBER,
        "Question",
        "Does our GL cover damage we cause to a customer's basement while we're working? Just "
        "want to know before a big job.",
        {"type": "Other"},
    ),
    (
        PLUMBER,
        "Add vehicle",
        "Adding a 2025 Ram ProMaster, VIN 3C6LRVDG5SE512345, to policy CA 5512 0613 starting "
        "Monday. Lienholder is Ally Bank.",
        {
            "type": "Endorsement",
            "policy_number": "CA 5512 0613",
            "deadline": "2026-12-07",
            "complex": False,
        },
    ),
    (
        ROOFER,
        "Need cert for tomorrow",
        "Need a cert naming Waukesha County as additional insured for a permit. Tomorrow AM "
        "please.",
        {
            "type": "COI",
            "certificate_holder": "Waukesha County",
            "deadline": "2026-12-02",
            "complex": True,
        },
    ),
    (
        BAKERY,
        "Landlord wants proof",
        "My landlord, Cedar Point Realty, says they need proof of insurance by the 10th or "
        "they'll fine us.",
        {"type": "COI", "certificate_holder": "Cedar Point Realty", "deadline": "2026-12-10"},
    ),
    (
        ROSA,
        "Seguro",
        "Necesito una prueba de seguro para el banco, Wells Fargo, para el préstamo del carro. "
        "Lo necesito antes del viernes.",
        {"type": "COI", "certificate_holder": "Wells Fargo", "deadline": "2026-12-04"},
    ),
    (
        PLUMBER,
        "Billing",
        "Why was I charged twice this month? I see two withdrawals of $310.",
        {"type": "Billing"},
    ),
]


@pytest.mark.parametrize(("sender", "subject", "body", "want"), WHOLE, ids=[w[1] for w in WHOLE])
def test_a_whole_message_is_read_field_by_field(
    sender: str, subject: str, body: str, want: dict[str, Any], directory: Directory
) -> None:
    got = fields(read(email(body, subject, sender=sender), directory))
    assert {key: got[key] for key in want} == want


def test_a_holder_named_like_a_legal_entity_needs_no_check(directory: Directory) -> None:
    for body, holder in (
        ("Could you send a COI to Harbor Point Partners LLC? Thanks.", "Harbor Point Partners LLC"),
        ("We need a certificate for Dane County for the permit.", "Dane County"),
    ):
        u = read(email(body), directory)
        assert (u.holder, "Certificate Holder" in u.unsure) == (holder, False)
    u = read(email("We need a certificate for the Oak Street job."), directory)
    assert "Certificate Holder" in u.unsure or not u.holder
