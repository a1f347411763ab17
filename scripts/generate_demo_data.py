"""Generate a realistic, deterministic demo marketplace for TrustDesk.

    .venv/bin/python scripts/generate_demo_data.py --seed 7 --out /tmp/demo [--format csv]

writes ``clients``, ``posts`` and ``feedback`` (``.jsonl`` or ``.csv``) in the import
format (``flask import clients|posts|feedback FILE``). Also importable:
``generate(seed=7, anchor=...) -> {"clients": [...], "posts": [...], "feedback": [...]}``;
``flask demo load`` calls it and imports the result through the same import path.

The same seed and anchor always give byte-identical output (only ``random.Random(seed)``
is used; nothing depends on the clock, hash order or the platform). Dates are laid out
backwards from ``anchor`` (default 2025-06-01 UTC here; ``flask demo load`` uses today).

What is in it (roughly, for the default 300 clients / 3,000 posts):
- honest posts in every taxonomy category, built from templates x slot fillers x random
  details, plus plenty of short honest ones ("Need a logo for my bakery, $50");
- scams: pay-for-training, fake checks, a "hiring manager" on Telegram, crypto/task
  schemes - from new, unverified client accounts;
- policy breaches: e-mails/phones/WhatsApp in the text (also "gmail dot com"), unpaid
  test work, academic cheating, buying reviews, account rental;
- self-advertisements in the jobs section ("I am a designer, hire me") and honest posts
  filed under the wrong category;
- a few posts with hostile HTML in title or text (the console must escape it);
- feedback histories: most clients well liked, a few consistently negative (5 of their
  last 6 reviews negative) and several with a single bad review among many good ones.

The text is written for this project (no external data); same licence as the repository.
"""
from __future__ import annotations

import argparse
import csv
import json
import random
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

DEFAULT_ANCHOR = datetime(2025, 6, 1, tzinfo=timezone.utc)
KINDS = ("clients", "posts", "feedback")

# ------------------------------------------------------------------------- shared fillers
BUSINESSES = [
    "bakery", "dental clinic", "yoga studio", "law firm", "coffee roastery", "bike shop",
    "pet grooming salon", "craft brewery", "real-estate agency", "language school", "florist",
    "plumbing company", "SaaS startup", "physiotherapy practice", "bookshop", "wedding venue",
    "food truck", "architecture studio", "online candle shop", "vintage clothing store",
    "non-profit", "accounting firm", "car repair garage", "tea shop", "climbing gym",
    "family-run hotel", "skincare brand", "music school", "cleaning company", "pizzeria",
]
CITIES = [
    "Austin", "Leeds", "Lyon", "Porto", "Toronto", "Melbourne", "Dublin", "Kraków", "Denver",
    "Cape Town", "Manchester", "Vancouver", "Auckland", "Bristol", "Rotterdam", "Valencia",
    "Chicago", "Edinburgh", "Brisbane", "Gothenburg",
]
COUNTRIES = [
    "United States", "United Kingdom", "Canada", "Australia", "Germany", "France", "Spain",
    "Netherlands", "Ireland", "Poland", "Portugal", "New Zealand", "South Africa", "Sweden",
    "India", "Brazil", "Singapore", "Mexico",
]
FIRST = ["Anna", "Ben", "Carla", "David", "Elif", "Farid", "Grace", "Hugo", "Ines", "Jonas",
         "Kemi", "Liam", "Maya", "Noah", "Olga", "Priya", "Quentin", "Rosa", "Sam", "Tariq",
         "Uma", "Victor", "Wen", "Yusuf", "Zoe", "Marta", "Pedro", "Hannah", "Ravi", "Leah"]
LAST = ["Almeida", "Brennan", "Chen", "Dubois", "Eriksen", "Fischer", "García", "Hughes",
        "Ivanova", "Jensen", "Kowalski", "Lopez", "Mensah", "Novak", "O'Neill", "Patel",
        "Rossi", "Schmidt", "Tanaka", "Underwood", "Varga", "Walsh", "Yilmaz", "Zimmer"]
COMPANY_WORDS = ["Blue", "North", "Oak", "Bright", "Harbor", "Maple", "Summit", "Cedar",
                 "Silver", "Red Fox", "Lantern", "Pine", "River", "Copper", "Juniper", "Atlas"]
COMPANY_KINDS = ["Studio", "Labs", "& Co", "Group", "Partners", "Works", "Digital",
                 "Bakery", "Dental", "Coffee", "Consulting", "Collective", "Outfitters"]

OPENERS = [
    "We are a small {business} in {city}.", "I run a {business} in {city}.",
    "Our {business} has been open for {years} years.", "Hi! We're a {business} based in {city}.",
    "I own a {business} and we're growing.", "", "", "",
]
TIMELINES = [
    "We'd like this done within {t} days.", "Deadline is flexible, ideally {t} weeks.",
    "Ongoing work for the right person.", "This should take about {t} hours.",
    "Please start as soon as possible.", "Timeline: {t} weeks.", "",
]
CLOSERS = [
    "Thanks!", "Looking forward to your proposals.", "Please include examples of similar work.",
    "Tell us briefly how you would approach it.", "Please quote a fixed price.", "", "",
    "Start your proposal with the word 'pineapple' so I know you read this.",
]
BUDGET_LINES = ["Budget is around ${budget}.", "Fixed price: ${budget}.", "We can pay ${budget}.",
                "Budget ${budget}, negotiable for the right person.", ""]

# --------------------------------------------------------------- honest posts by category
# category -> (title, core request) templates, slot fillers and category details
CATEGORY_TEXT: dict[str, dict[str, Any]] = {
    "web_mobile_software": {
        "tasks": [
            ("Fix checkout bugs on our {platform} store",
             "Customers sometimes see an error at checkout on our {platform} store and we need someone to find and fix the cause."),
            ("Build a booking page for our {business}",
             "We need a simple booking page where customers pick a service and a time slot, with e-mail confirmations."),
            ("{framework} developer for an admin dashboard",
             "Looking for a {framework} developer to build an internal dashboard that reads from our existing REST API."),
            ("Speed up our {platform} website",
             "Our {platform} site takes over 6 seconds to load on mobile. Please improve it without changing the design."),
            ("Small iOS and Android app for our {business}",
             "We want a basic app for iOS and Android where regulars can see opening hours, order ahead and collect loyalty points."),
            ("Python script to automate weekly reports",
             "Write a Python script that pulls our sales from {platform} and e-mails a weekly summary as a PDF."),
            ("Integrate Stripe payments into our web app",
             "Add Stripe subscriptions (monthly and yearly) to our {framework} app, including webhooks and a customer portal."),
            ("Chrome extension to save notes",
             "Build a small Chrome extension that saves highlighted text to a Google Sheet with the page URL."),
        ],
        "slots": {"platform": ["Shopify", "WooCommerce", "WordPress", "Magento", "Squarespace", "Webflow"],
                  "framework": ["React", "Vue", "Django", "Laravel", "Next.js", "Flutter", "Rails"]},
        "details": ["The code is on GitHub.", "You will get access to a staging server.",
                    "We prefer clean commits and a pull request we can review.",
                    "Please mention similar projects you have shipped.", "Hosting is on AWS.",
                    "Tests would be a bonus."],
        "skills": ["JavaScript", "React", "Python", "PHP", "WordPress", "Shopify", "Flutter",
                   "Django", "Node.js", "CSS", "API integration", "Stripe"],
        "budget": (150, 4000),
    },
    "design_creative": {
        "tasks": [
            ("Logo for our {business}", "We need a simple, memorable logo for our {business} that works on signage, cups and social media."),
            ("Brand identity for a new {business}", "Looking for a designer to create a logo, colour palette and fonts for our new {business}, with a one-page guide."),
            ("Instagram templates in our brand colours", "Design {n} editable Canva templates for posts and stories that match our brand."),
            ("Menu redesign", "Redesign our two-page menu so it is easier to read and matches our new logo."),
            ("Illustrations for a children's book", "I need {n} full-page illustrations for a children's picture book about a {animal} who learns to {verb}."),
            ("Edit a short promo video", "Edit a {n}-minute promo video for our {business} from raw footage we shot on a phone, with subtitles."),
            ("Product photo retouching", "Retouch {n} product photos: white background, consistent shadows and colour correction."),
            ("Packaging design for {product}", "Design the packaging for our new {product}; the printer has supplied the dielines."),
        ],
        "slots": {"animal": ["fox", "penguin", "hedgehog", "turtle", "little bear"],
                  "verb": ["swim", "fly", "share", "tell the time", "make friends"],
                  "product": ["soap bars", "tea blends", "hot sauce", "dog treats", "candles"]},
        "details": ["Please send your portfolio.", "We like clean, modern styles.",
                    "Two rounds of revisions included.", "Source files (AI/PSD/Figma) required.",
                    "We have a mood board to share."],
        "skills": ["Logo Design", "Illustrator", "Photoshop", "Figma", "Canva", "Branding",
                   "Video Editing", "Illustration", "Packaging Design"],
        "budget": (40, 1500),
    },
    "writing": {
        "tasks": [
            ("Blog posts for our {business}", "We need {n} blog posts (about 1,000 words each) on topics our customers ask about."),
            ("Product descriptions for our online store", "Write {n} short, friendly product descriptions for our {product} range."),
            ("Proofread a 60-page manual", "Proofread and edit a 60-page user manual written by non-native speakers (US English)."),
            ("Newsletter copywriter", "Write our monthly e-mail newsletter: news, a short story and one offer."),
            ("About page rewrite", "Rewrite the About page of our {business} website so it sounds warmer and more personal."),
            ("Ghostwriter for LinkedIn posts", "Draft {n} LinkedIn posts per month for our founder, based on short voice notes."),
        ],
        "slots": {"product": ["ceramics", "coffee", "yoga mats", "kids' toys", "leather goods"]},
        "details": ["Original writing only, please.", "Our tone is friendly and plain.",
                    "Some SEO knowledge is a plus.", "Samples of your writing please."],
        "skills": ["Copywriting", "Blog Writing", "Proofreading", "SEO Writing", "Editing",
                   "Content Writing"],
        "budget": (30, 900),
    },
    "sales_marketing": {
        "tasks": [
            ("Google Ads setup for our {business}", "Set up and optimise a Google Ads search campaign for our {business} in {city}."),
            ("Social media manager, part time", "We need someone to plan and post on Instagram and Facebook {n} times a week."),
            ("SEO audit of our website", "Audit our website's SEO and give us a prioritised list of fixes."),
            ("Email marketing in Mailchimp", "Set up a welcome sequence and a monthly campaign in Mailchimp."),
            ("Lead generation list", "Build a list of {n} {business} owners in {city} with public contact details from their websites."),
        ],
        "slots": {},
        "details": ["Monthly reporting expected.", "We can share last year's analytics.",
                    "Experience with local businesses preferred."],
        "skills": ["Google Ads", "SEO", "Social Media Marketing", "Mailchimp", "Lead Generation",
                   "Facebook Ads"],
        "budget": (100, 2000),
    },
    "admin_support": {
        "tasks": [
            ("Virtual assistant, {n} hours a week", "Looking for a virtual assistant to manage my inbox, calendar and travel bookings."),
            ("Data entry from PDFs into a spreadsheet", "Copy about {n} supplier invoices from PDF into our Google Sheet with a fixed layout."),
            ("Clean up our CRM contacts", "Remove duplicates and fix formatting in about {n} contacts in our HubSpot CRM."),
            ("Research assistant", "Research {n} suppliers of {product} and summarise prices and terms in a table."),
        ],
        "slots": {"product": ["recycled packaging", "organic cotton", "espresso machines", "office chairs"]},
        "details": ["Attention to detail is essential.", "Must be available in European mornings.",
                    "Good written English required."],
        "skills": ["Data Entry", "Virtual Assistance", "Google Sheets", "Excel", "Research",
                   "CRM"],
        "budget": (20, 600),
    },
    "customer_service": {
        "tasks": [
            ("Customer support agent for our online store", "Answer customer e-mails and live chat for our online store, about {n} tickets a day."),
            ("Weekend chat support", "We need someone to cover live chat on Saturdays and Sundays using Zendesk."),
            ("Phone support for a {business}", "Answer calls and book appointments for our {business} during office hours."),
            ("Write our help-centre FAQ", "Turn our most common customer questions into {n} clear help-centre articles."),
        ],
        "slots": {},
        "details": ["We use Zendesk.", "Training provided in the first week.", "Friendly tone is a must."],
        "skills": ["Customer Support", "Zendesk", "Live Chat", "Email Support", "Phone Support"],
        "budget": (100, 1200),
    },
    "data_science_analytics": {
        "tasks": [
            ("Dashboard of our sales data", "Build a Looker Studio dashboard from our sales spreadsheet with monthly trends."),
            ("Analyse our customer survey", "Analyse {n} survey responses and summarise the main findings with charts."),
            ("Forecast next quarter's demand", "Build a simple forecast of weekly demand from two years of order data."),
            ("Clean and merge messy spreadsheets", "Clean and merge {n} exported spreadsheets into one tidy dataset."),
            ("SQL queries for our reporting", "Write SQL queries against our PostgreSQL database for five standard reports."),
        ],
        "slots": {},
        "details": ["Python or R are both fine.", "Please explain your method in plain words.",
                    "Data is anonymised."],
        "skills": ["Python", "SQL", "Data Analysis", "Excel", "Tableau", "Statistics", "pandas"],
        "budget": (100, 2500),
    },
    "engineering_architecture": {
        "tasks": [
            ("Floor plan for a small extension", "Draw floor plans and elevations for a single-storey kitchen extension for planning."),
            ("3D model of a product for manufacturing", "Create a manufacturable 3D CAD model of our {product} from sketches."),
            ("Structural check of a timber deck", "Check the structural design of a raised timber deck and provide calculations."),
            ("PCB design for a small sensor board", "Design a two-layer PCB for a temperature sensor board; schematic is ready."),
        ],
        "slots": {"product": ["bike rack", "phone stand", "plant pot", "wall bracket"]},
        "details": ["AutoCAD or Revit files required.", "Local building codes apply.",
                    "Please state your qualifications."],
        "skills": ["AutoCAD", "SolidWorks", "Revit", "PCB Design", "3D Modeling",
                   "Structural Engineering"],
        "budget": (150, 3000),
    },
    "it_networking": {
        "tasks": [
            ("Set up Microsoft 365 for our office", "Migrate {n} mailboxes to Microsoft 365 and set up shared calendars."),
            ("Office Wi-Fi is unreliable", "Our office Wi-Fi drops several times a day; diagnose it and recommend fixes."),
            ("Back up our server to the cloud", "Set up automated nightly backups of our file server to Backblaze."),
            ("Harden our Linux VPS", "Secure our Ubuntu VPS: firewall, SSH keys only, automatic updates, fail2ban."),
        ],
        "slots": {},
        "details": ["Remote access will be provided.", "Please document what you change.",
                    "Must be available for a follow-up call."],
        "skills": ["Microsoft 365", "Networking", "Linux", "Windows Server", "Backup", "Security"],
        "budget": (80, 1500),
    },
    "translation": {
        "tasks": [
            ("Translate our website from English to {language}", "Translate about {n} words of website copy from English to {language}."),
            ("Subtitles for a training video", "Create {language} subtitles for a 20-minute training video."),
            ("Certified translation of documents", "Certified translation of a birth certificate and a diploma from {language} to English."),
            ("Localise our app strings", "Translate about {n} app strings into {language}, keeping placeholders intact."),
        ],
        "slots": {"language": ["Spanish", "German", "French", "Portuguese", "Japanese", "Polish",
                               "Italian", "Dutch"]},
        "details": ["Native speakers only, please.", "A glossary will be provided.",
                    "Please keep the formatting."],
        "skills": ["Translation", "Localization", "Subtitling", "Proofreading"],
        "budget": (30, 800),
    },
    "accounting_consulting": {
        "tasks": [
            ("Bookkeeping in Xero", "Reconcile our Xero accounts for the last {n} months and tidy up the categories."),
            ("Business plan for a bank loan", "Help us write a business plan and three-year forecast for a bank loan for our {business}."),
            ("Year-end accounts for a small company", "Prepare year-end accounts for a small limited company with simple books."),
            ("Pricing strategy review", "Review our pricing for our {business} and suggest a better structure."),
        ],
        "slots": {},
        "details": ["Qualified accountants preferred.", "We use QuickBooks.",
                    "All documents are in a shared folder."],
        "skills": ["Bookkeeping", "Xero", "QuickBooks", "Financial Modeling", "Business Plans"],
        "budget": (100, 2000),
    },
    "legal": {
        "tasks": [
            ("Terms and conditions for our online shop", "Draft terms and conditions and a privacy policy for our online shop selling {product}."),
            ("Review a commercial lease", "Review a 5-year commercial lease for our {business} and flag risky clauses."),
            ("Trademark search", "Run a trademark search for our brand name in the EU and the UK."),
            ("Contractor agreement template", "Draft a simple contractor agreement we can reuse for freelancers."),
        ],
        "slots": {"product": ["jewellery", "furniture", "cosmetics", "digital downloads"]},
        "details": ["Please state the jurisdictions you practise in.", "Fixed fee preferred.",
                    "Plain English, please."],
        "skills": ["Contract Drafting", "Legal Research", "Trademark Law", "GDPR", "Legal Writing"],
        "budget": (150, 2500),
    },
}
CATEGORY_SLUGS = list(CATEGORY_TEXT)

SHORT_POSTS = [
    ("Logo for my {business}", "Need a logo for my {business}, ${budget}.", "design_creative"),
    ("Fix contact form", "The contact form on our WordPress site stopped sending e-mails. Please fix.", "web_mobile_software"),
    ("Proofread my CV", "Proofread my CV, 2 pages, UK English.", "writing"),
    ("Translate a menu", "Translate our one-page menu into {language}.", "translation"),
    ("Excel formula help", "I need help with a VLOOKUP that keeps returning #N/A.", "data_science_analytics"),
    ("Business cards", "Simple business cards for our {business}. Budget ${budget}.", "design_creative"),
    ("Instagram bio", "Write a short Instagram bio for our {business}.", "writing"),
    ("Set up Google Business profile", "Set up our Google Business profile with photos and hours.", "sales_marketing"),
    ("Enter 200 addresses", "Type 200 addresses from scanned forms into a spreadsheet.", "admin_support"),
    ("Printer not on network", "Our office printer won't connect to Wi-Fi. Remote help please.", "it_networking"),
    ("Review NDA", "Quick review of a 3-page NDA before we sign it.", "legal"),
    ("VAT return help", "Help me file my first quarterly VAT return.", "accounting_consulting"),
    ("Answer emails for a week", "Cover our support inbox for one week while I'm away.", "customer_service"),
    ("Flyer for a bake sale", "A4 flyer for our school bake sale. ${budget}.", "design_creative"),
    ("Shopify theme tweak", "Change the font and button colour on our Shopify theme.", "web_mobile_software"),
    ("Sketch of a shed", "Simple drawing of a garden shed with dimensions for the council.", "engineering_architecture"),
]
SHORT_SLOTS = {"language": ["Spanish", "French", "German", "Italian"]}

# ------------------------------------------------------------------------------- scams
SCAMS = {
    "pay_for_training": [
        ("Data entry clerk, work from home, ${rate}/hr",
         "No experience needed! Earn ${rate} per hour typing from home. Before you start you must buy the training kit (${fee}) from our partner site; the fee is refunded with your first paycheck."),
        ("Remote product tester - start today",
         "We pay ${rate}/hr to test products from home. To activate your tester account, pay a one-time registration and training fee of ${fee}. Limited places!"),
        ("Online assistant, training provided",
         "Paid training provided after you purchase our starter certification (${fee}). Graduates earn ${rate}/hr guaranteed. Pay the fee via gift cards to reserve your spot."),
    ],
    "fake_check": [
        ("Personal assistant needed urgently",
         "I travel a lot and need an assistant. I will mail you a check for ${check}; deposit it, keep ${rate} for your first week and send the rest to my vendor by wire transfer to buy office supplies."),
        ("Home office setup coordinator",
         "You will receive a cashier's check to buy equipment from our approved vendor. Deposit it in your bank and forward the balance by Zelle the same day."),
        ("Mystery shopper - paid by check",
         "Mystery shoppers wanted. We send you a check for ${check}, you evaluate a money transfer service by sending ${fee} to our agent and keep the rest as payment."),
    ],
    "telegram": [
        ("Hiring: remote customer service (urgent)",
         "Great pay, flexible hours. Contact our hiring manager on Telegram @{handle} to schedule your interview. Interviews are done by text chat only."),
        ("Project coordinator - interview on Telegram",
         "Please add our HR manager on Telegram ({handle}) for a quick text interview. Do not reply here, the platform is slow."),
        ("Remote admin assistant $40/hr",
         "Message Mrs. {name} on Telegram @{handle} with your full name, phone number and a copy of your ID to get started immediately."),
    ],
    "crypto": [
        ("Simple online tasks, earn ${rate}/day",
         "Earn ${rate} a day by rating apps and liking videos. Tasks pay in USDT. Deposit {coins} USDT to unlock premium tasks with higher commission; withdraw anytime."),
        ("Crypto trading assistant",
         "Help our team with crypto arbitrage. Send {coins} USDT to the wallet we provide to activate your account; you earn 30% commission daily."),
        ("Part-time order booster",
         "Boost merchant orders on our platform and earn commission in Bitcoin. New members must top up their account balance before the first task set."),
    ],
}

# ------------------------------------------------------------------------- policy breaches
def _contact(rng: random.Random) -> str:
    name = rng.choice(FIRST).lower()
    n = rng.randint(10, 99)
    return rng.choice([
        f"Email me directly at {name}{n}@gmail.com and we can discuss.",
        f"Contact me at {name}.{rng.choice(LAST).lower()}@outlook.com, I rarely check messages here.",
        f"Reach me at {name}{n} at gmail dot com to talk details.",
        f"Send your CV to {name}.{n} AT gmail DOT com (no messages here please).",
        f"WhatsApp me on +44 7700 900{rng.randint(100, 999)} for a faster reply.",
        f"Call or text +1 (415) 555-0{rng.randint(100, 199)} and ask for {name.title()}.",
        f"Let's continue on Skype ({name}_{n}) and I will pay you by PayPal to avoid the fees.",
        f"Add me on WhatsApp: plus one four one five five five five zero one {rng.randint(10, 99)}.",
    ])


POLICY = {
    "off_platform": [
        ("{title}", "{core} {contact}"),
    ],
    "unpaid_work": [
        ("Logo designer - test task first",
         "Before we hire, every applicant must complete a full test project: design three logo concepts for our {business}. The test is unpaid; we will choose the best one and hire that designer."),
        ("Writers wanted - unpaid sample article",
         "Please write a complete 1,500-word article on our topic as an unpaid trial. We publish the best samples on our blog."),
        ("Developer trial: build our login page",
         "As a test, build the full login and sign-up flow for our app. This trial task is not paid; if we like your code you get the long-term contract."),
    ],
    "academic_dishonesty": [
        ("Write my essay on {topic}",
         "I need someone to write my 2,500-word university essay on {topic}. It must pass Turnitin and be in my own voice. Due Friday."),
        ("Take my online statistics exam",
         "Looking for someone to log in as me and take my online statistics exam next Tuesday. Must guarantee at least a B."),
        ("Do my programming homework",
         "Complete my Java homework assignments for the semester and explain just enough so I can submit them as my own."),
        ("Dissertation ghostwriter",
         "Need my master's dissertation in {topic} written from scratch, 15,000 words, plagiarism-free, I will submit it under my name."),
    ],
    "fake_reviews": [
        ("Need 50 five-star Google reviews",
         "We need 50 five-star Google reviews for our {business} posted from different accounts and locations so they look real."),
        ("Amazon reviewers wanted",
         "Buy our product, leave a 5-star Amazon review with photos and we refund you plus $10 via PayPal."),
        ("Remove negative reviews and add positive ones",
         "Looking for someone who can get bad Trustpilot reviews removed and write positive reviews for our {business} from real-looking profiles."),
    ],
    "account_rental": [
        ("Rent your freelancer account",
         "We pay you 20% of all earnings to use your verified freelancer account. You do nothing, our team does the work."),
        ("US-based account holder needed",
         "Looking for someone in the US to open an account and let us work through it. We handle everything and share the profit."),
        ("Buying verified accounts",
         "Buying verified marketplace accounts with good reviews. Send your login and we pay $300 per account."),
    ],
}
ESSAY_TOPICS = ["the French Revolution", "climate policy", "behavioural economics",
                "Shakespeare's tragedies", "supply chain management", "nursing ethics"]

# --------------------------------------------------------------------------- self-ads
SELF_ADS = [
    ("{role} available - hire me",
     "Hi, I am a {role} with {years} years of experience. I can do {work} quickly and at a good price. Check my profile and send me an offer!", "{cat}"),
    ("Experienced {role} looking for work",
     "I am looking for long-term projects as a {role}. Skills: {work}. Available full time. Message me to hire me.", "{cat}"),
    ("Professional {role} | fast delivery",
     "Are you looking for a {role}? I have worked with 100+ happy clients on {work}. Hire me today and get a 10% discount.", "{cat}"),
]
SELF_AD_ROLES = [
    ("graphic designer", "logos, flyers and social media graphics", "design_creative"),
    ("WordPress developer", "themes, plugins and speed optimisation", "web_mobile_software"),
    ("virtual assistant", "data entry, e-mail management and research", "admin_support"),
    ("content writer", "blog posts, product descriptions and SEO articles", "writing"),
    ("video editor", "YouTube videos, reels and ads", "design_creative"),
    ("translator", "English-Spanish and English-French translation", "translation"),
    ("data analyst", "Excel dashboards and Python reports", "data_science_analytics"),
    ("SEO specialist", "on-page SEO, backlinks and audits", "sales_marketing"),
]

# --------------------------------------------------------------------------- hostile HTML
HOSTILE = [
    ("Landing page <script>alert(1)</script>",
     "Need a landing page for our {business}. <script>alert(1)</script> Budget is flexible."),
    ("Fix our contact form",
     "The form breaks when customers type <img src=x onerror=alert(1)> into the message box. Please fix and sanitise it."),
    ("Portfolio review",
     "See our current site here: <a href=\"javascript:alert(1)\">our portfolio</a>. We want a refresh of the design."),
    ("Banner design <b>urgent</b>",
     "Design a banner for our {business}.\"><svg onload=alert(document.cookie)> Sizes attached."),
]

# ------------------------------------------------------------------------------- feedback
POSITIVE = [
    "Great client, clear requirements and paid promptly.",
    "Very friendly and responsive. Would happily work with them again.",
    "Clear brief, quick feedback and fair payment. Recommended.",
    "One of the best clients I've had: organised and respectful.",
    "Smooth project from start to finish. Paid a bonus too!",
    "Knew exactly what they wanted and communicated well.",
    "Patient with questions and approved milestones on time.",
    "Good communication, reasonable deadlines, prompt payment.",
]
MILD = ["Requirements changed a couple of times but overall fine.",
        "Slow to reply at times, but paid as agreed.",
        "Decent project, a bit of scope creep at the end."]
NEGATIVE = [
    "Kept adding work outside the scope and refused to pay for it.",
    "Rude in messages and disappeared for two weeks before approving.",
    "Asked for endless revisions, then opened a dispute to avoid paying.",
    "Demanded free extra work and threatened a bad review.",
    "Unclear requirements and blamed me for everything. Avoid.",
    "Paid late and only after several reminders. Very disrespectful.",
    "Changed the brief every day and cancelled the contract at the end without paying.",
    "Micromanaged every minute and insulted my work in front of their team.",
]


# ------------------------------------------------------------------------------- helpers
def _fill(rng: random.Random, text: str, slots: dict[str, list[str]], **fixed: Any) -> str:
    values: dict[str, Any] = {
        "business": rng.choice(BUSINESSES), "city": rng.choice(CITIES),
        "years": rng.randint(2, 25), "t": rng.randint(2, 8), "n": rng.choice([2, 3, 4, 5, 6, 8, 10, 12, 20, 40]),
        "language": rng.choice(SHORT_SLOTS["language"]), "topic": rng.choice(ESSAY_TOPICS),
        "product": rng.choice(["soap bars", "tea blends", "candles", "jewellery"]),
        **{k: rng.choice(v) for k, v in slots.items()}, **fixed,
    }
    return text.format(**values)


def _sentence_join(parts: list[str]) -> str:
    return " ".join(p for p in parts if p)


def _money(rng: random.Random, low: int, high: int) -> int:
    value = rng.uniform(low, high)
    step = 5 if value < 200 else 50 if value < 2000 else 100
    return int(round(value / step) * step) or step


def _iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def _pick_skills(rng: random.Random, pool: list[str]) -> list[str]:
    return rng.sample(pool, rng.randint(0, min(4, len(pool))))


# ------------------------------------------------------------------------------- generator
class _Builder:
    def __init__(self, seed: int, anchor: datetime):
        self.rng = random.Random(seed)
        self.anchor = anchor
        self.clients: list[dict[str, Any]] = []
        self.posts: list[dict[str, Any]] = []
        self.feedback: list[dict[str, Any]] = []
        self.kind_of: dict[str, str] = {}

    # --- clients
    def client(self, profile: str) -> dict[str, Any]:
        rng = self.rng
        number = len(self.clients) + 1
        if profile == "scammer":
            name = rng.choice([f"{rng.choice(FIRST)} {rng.choice(LAST)}", "HR Department",
                               "Global Staffing Solutions", "Recruitment Team",
                               f"{rng.choice(COMPANY_WORDS)} Careers Ltd"])
            age_days = rng.randint(0, 20)
            verified = (False, rng.random() < 0.3, False)
        else:
            name = rng.choice([f"{rng.choice(FIRST)} {rng.choice(LAST)}",
                               f"{rng.choice(COMPANY_WORDS)} {rng.choice(COMPANY_KINDS)}",
                               f"{rng.choice(LAST)} {rng.choice(COMPANY_KINDS)}"])
            age_days = rng.randint(30, 2500)
            verified = (rng.random() < 0.85, rng.random() < 0.75, rng.random() < 0.5)
        record = {
            "external_id": f"cl-{number:04d}", "name": name, "country": rng.choice(COUNTRIES),
            "joined_at": _iso(self.anchor - timedelta(days=age_days, seconds=rng.randint(0, 86399))),
            "payment_verified": verified[0], "phone_verified": verified[1],
            "identity_verified": verified[2],
        }
        self.clients.append(record)
        self.kind_of[record["external_id"]] = profile
        return record

    def posted_at(self, client: dict[str, Any]) -> str:
        joined = datetime.fromisoformat(client["joined_at"])
        earliest = max(joined, self.anchor - timedelta(days=365))
        span = max(1, int((self.anchor - earliest).total_seconds()))
        return _iso(earliest + timedelta(seconds=self.rng.randint(0, span)))

    # --- posts
    def post(self, client: dict[str, Any], title: str, description: str, category: str | None,
             skills: list[str], budget: float | None) -> None:
        self.posts.append({
            "external_id": f"post-{len(self.posts) + 1:05d}", "client_id": client["external_id"],
            "title": title[:300], "description": description, "category": category,
            "skills": skills, "budget": budget, "posted_at": self.posted_at(client),
        })

    def honest(self, client: dict[str, Any], category: str, filed_under: str | None = None) -> None:
        rng, spec = self.rng, CATEGORY_TEXT[category]
        title_t, core_t = rng.choice(spec["tasks"])
        business, city = rng.choice(BUSINESSES), rng.choice(CITIES)
        fixed = {"business": business, "city": city, **{k: rng.choice(v) for k, v in spec["slots"].items()}}
        budget = _money(rng, *spec["budget"]) if rng.random() < 0.8 else None
        parts = [_fill(rng, rng.choice(OPENERS), {}, **fixed), _fill(rng, core_t, {}, **fixed)]
        parts += rng.sample(spec["details"], rng.randint(0, min(2, len(spec["details"]))))
        parts.append(_fill(rng, rng.choice(TIMELINES), {}))
        if budget is not None:
            parts.append(rng.choice(BUDGET_LINES).format(budget=budget))
        parts.append(rng.choice(CLOSERS))
        paragraphs = _sentence_join(parts)
        if rng.random() < 0.3:  # some posts come as two paragraphs
            cut = paragraphs.find(". ", len(paragraphs) // 2)
            if cut > 0:
                paragraphs = paragraphs[:cut + 1] + "\n\n" + paragraphs[cut + 2:]
        self.post(client, _fill(rng, title_t, {}, **fixed), paragraphs,
                  filed_under or category, _pick_skills(rng, spec["skills"]), budget)

    def short(self, client: dict[str, Any]) -> None:
        rng = self.rng
        title_t, text_t, category = rng.choice(SHORT_POSTS)
        budget = rng.choice([25, 30, 40, 50, 60, 75, 80, 100, 120, 150])
        fixed = {"budget": budget, "business": rng.choice(BUSINESSES),
                 "language": rng.choice(SHORT_SLOTS["language"])}
        text = _fill(rng, text_t, {}, **fixed)
        self.post(client, _fill(rng, title_t, {}, **fixed), text,
                  category if rng.random() < 0.9 else None, [],
                  float(budget) if "$" in text or rng.random() < 0.5 else None)

    def scam(self, client: dict[str, Any]) -> None:
        rng = self.rng
        kind = rng.choice(sorted(SCAMS))
        title_t, text_t = rng.choice(SCAMS[kind])
        fixed = {"rate": rng.choice([25, 35, 45, 55, 300, 500]), "fee": rng.choice([49, 89, 120, 150]),
                 "check": rng.choice([2450, 2980, 3500, 4200]),
                 "handle": f"{rng.choice(FIRST).lower()}_{rng.choice(['hr', 'hiring', 'recruit', 'jobs'])}{rng.randint(1, 99)}",
                 "name": rng.choice(LAST), "coins": rng.choice([50, 100, 200, 500])}
        extra = rng.choice(["", "Apply fast, only 3 positions left!", "Weekly pay guaranteed.",
                            "No interview with video needed.", "Reply with your WhatsApp number."])
        category = rng.choice(["admin_support", "customer_service", "data_science_analytics", None])
        self.post(client, _fill(rng, title_t, {}, **fixed),
                  _sentence_join([_fill(rng, text_t, {}, **fixed), extra]), category, [],
                  rng.choice([None, 500.0, 1000.0, 2500.0]))

    def policy(self, client: dict[str, Any]) -> None:
        rng = self.rng
        kind = rng.choice(sorted(POLICY))
        if kind == "off_platform":  # an honest-looking post with contact details in it
            category = rng.choice(CATEGORY_SLUGS)
            spec = CATEGORY_TEXT[category]
            title_t, core_t = rng.choice(spec["tasks"])
            fixed = {"business": rng.choice(BUSINESSES), "city": rng.choice(CITIES),
                     **{k: rng.choice(v) for k, v in spec["slots"].items()}}
            self.post(client, _fill(rng, title_t, {}, **fixed),
                      _sentence_join([_fill(rng, core_t, {}, **fixed), _contact(rng)]),
                      category, _pick_skills(rng, spec["skills"]), _money(rng, *spec["budget"]))
            return
        title_t, text_t = rng.choice(POLICY[kind])
        fixed = {"business": rng.choice(BUSINESSES), "topic": rng.choice(ESSAY_TOPICS)}
        category = {"unpaid_work": rng.choice(["design_creative", "writing", "web_mobile_software"]),
                    "academic_dishonesty": "writing", "fake_reviews": "sales_marketing",
                    "account_rental": rng.choice(["admin_support", None])}[kind]
        self.post(client, _fill(rng, title_t, {}, **fixed), _fill(rng, text_t, {}, **fixed),
                  category, [], rng.choice([None, 20.0, 50.0, 100.0, 300.0]))

    def self_ad(self, client: dict[str, Any]) -> None:
        rng = self.rng
        role, work, cat = rng.choice(SELF_AD_ROLES)
        title_t, text_t, _ = rng.choice(SELF_ADS)
        fixed = {"role": role, "work": work, "years": rng.randint(2, 12), "cat": cat}
        filed = cat if rng.random() < 0.8 else rng.choice(CATEGORY_SLUGS)
        self.post(client, _fill(rng, title_t, {}, **fixed), _fill(rng, text_t, {}, **fixed),
                  filed, [], None)

    def hostile(self, client: dict[str, Any], index: int) -> None:
        title, text = HOSTILE[index % len(HOSTILE)]
        self.post(client, title, _fill(self.rng, text, {}), "web_mobile_software", ["HTML"], 200.0)

    # --- feedback
    def reviews(self, client: dict[str, Any], pattern: list[bool], *, from_days: int = 720,
                to_days: int = 0) -> None:
        """``pattern``: oldest first, True = negative; spread between ``from_days`` and
        ``to_days`` before the anchor (and never before the client joined)."""
        rng = self.rng
        joined = datetime.fromisoformat(client["joined_at"])
        end = self.anchor - timedelta(days=to_days)
        start = min(max(joined, self.anchor - timedelta(days=from_days)), end)
        span = max(len(pattern), int((end - start).total_seconds()))
        moments = sorted(rng.sample(range(span), len(pattern))) if span >= len(pattern) else list(range(len(pattern)))
        for negative, offset in zip(pattern, moments):
            if negative:
                rating, comment = rng.choice([1, 1, 2, 2, 3]), rng.choice(NEGATIVE)
            elif rng.random() < 0.12:
                rating, comment = rng.choice([3, 4]), rng.choice(MILD)
            else:
                rating, comment = rng.choice([4, 5, 5, 5]), rng.choice(POSITIVE)
            record = {
                "external_id": f"fb-{len(self.feedback) + 1:06d}", "client_id": client["external_id"],
                "rating": rating, "comment": comment,
                "created_at": _iso(start + timedelta(seconds=offset)),
                "freelancer_ref": f"fl-{rng.randint(1, 4000):05d}",
                "contract_ref": f"ct-{rng.randint(1, 99999):06d}",
            }
            if rng.random() < 0.15:  # some feedback arrives without the optional refs
                del record["freelancer_ref"], record["contract_ref"]
            self.feedback.append(record)


def generate(seed: int = 7, anchor: datetime = DEFAULT_ANCHOR, *, clients: int = 300,
             posts: int = 3000) -> dict[str, list[dict[str, Any]]]:
    """The demo marketplace: ``{"clients": [...], "posts": [...], "feedback": [...]}``,
    each item in the import format (with its ``external_id``)."""
    if anchor.tzinfo is None:
        raise ValueError("anchor must be timezone-aware")
    b = _Builder(seed, anchor)
    rng = b.rng
    n_scam = max(2, clients // 15)          # new, unverified accounts posting scams
    n_policy = max(2, clients // 15)
    n_self_ad = max(2, clients // 30)       # freelancers posting ads in the jobs section
    n_negative = max(2, clients // 40)      # consistently negative clients
    n_one_bad = max(2, clients // 30)       # one bad review among many good ones
    profiles = (["scammer"] * n_scam + ["policy"] * n_policy + ["self_ad"] * n_self_ad
                + ["negative"] * n_negative + ["one_bad"] * n_one_bad)
    profiles += ["honest"] * (clients - len(profiles))
    rng.shuffle(profiles)
    by_profile: dict[str, list[dict[str, Any]]] = {}
    for profile in profiles:
        by_profile.setdefault(profile, []).append(b.client(profile))
    regular = by_profile["honest"] + by_profile["negative"] + by_profile["one_bad"]

    # post mix: what kind of post, and who writes it
    mix = [("scam", 0.05), ("policy", 0.06), ("self_ad", 0.025), ("miscat", 0.04),
           ("short", 0.09), ("hostile", 0.002)]
    plan: list[str] = []
    for kind, share in mix:
        plan += [kind] * max(2, round(posts * share))
    plan += ["honest"] * (posts - len(plan))
    rng.shuffle(plan)
    hostile_index = 0
    for kind in plan:
        if kind == "scam":
            b.scam(rng.choice(by_profile["scammer"]))
        elif kind == "policy":
            b.policy(rng.choice(by_profile["policy"] + regular[:5]))
        elif kind == "self_ad":
            b.self_ad(rng.choice(by_profile["self_ad"]))
        elif kind == "hostile":
            b.hostile(rng.choice(regular), hostile_index)
            hostile_index += 1
        elif kind == "short":
            b.short(rng.choice(regular))
        elif kind == "miscat":
            true_cat = rng.choice(CATEGORY_SLUGS)
            wrong = rng.choice([c for c in CATEGORY_SLUGS if c != true_cat])
            b.honest(rng.choice(regular), true_cat, filed_under=wrong)
        else:
            b.honest(rng.choice(regular), rng.choice(CATEGORY_SLUGS))
    b.posts.sort(key=lambda p: (p["posted_at"], p["external_id"]))
    for number, post in enumerate(b.posts, start=1):  # ids in posting order
        post["external_id"] = f"post-{number:05d}"

    # feedback histories
    for client in b.clients:
        profile = b.kind_of[client["external_id"]]
        if profile == "negative":   # 5 of the last 6 negative (the last 5 months), after a decent start
            last_six = [True] * 5 + [False]
            rng.shuffle(last_six)
            b.reviews(client, [rng.random() < 0.15 for _ in range(rng.randint(1, 5))],
                      from_days=720, to_days=160)
            b.reviews(client, last_six, from_days=150)
            continue
        elif profile == "one_bad":  # a single bad review among many good ones
            pattern = [False] * rng.randint(8, 14)
            pattern[rng.randrange(len(pattern))] = True
        elif profile in {"scammer", "self_ad"}:
            pattern = [False] * rng.randint(0, 1)
        else:
            pattern = [rng.random() < 0.04 for _ in range(rng.choice([0, 1, 2, 3, 4, 5, 6, 8, 10]))]
            if sum(pattern) > 1:   # honest clients never show a negative pattern
                pattern = [False] * len(pattern)
        b.reviews(client, pattern)
    return {"clients": b.clients, "posts": b.posts, "feedback": b.feedback}


# ------------------------------------------------------------------------------- output
CSV_COLUMNS = {
    "clients": ["external_id", "name", "country", "joined_at", "payment_verified",
                "phone_verified", "identity_verified"],
    "posts": ["external_id", "client_id", "title", "description", "category", "skills",
              "budget", "posted_at"],
    "feedback": ["external_id", "client_id", "rating", "comment", "created_at",
                 "freelancer_ref", "contract_ref"],
}


def _csv_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ";".join(value)
    return str(value)


def write(data: dict[str, list[dict[str, Any]]], out: Path, fmt: str = "jsonl") -> list[Path]:
    """Write ``clients``, ``posts`` and ``feedback`` files into ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for kind in KINDS:
        path = out / f"{kind}.{fmt}"
        with path.open("w", encoding="utf-8", newline="") as fh:
            if fmt == "csv":
                writer = csv.writer(fh)
                writer.writerow(CSV_COLUMNS[kind])
                for item in data[kind]:
                    writer.writerow([_csv_cell(item.get(c)) for c in CSV_COLUMNS[kind]])
            else:
                for item in data[kind]:
                    fh.write(json.dumps(item, ensure_ascii=False, sort_keys=True) + "\n")
        paths.append(path)
    return paths


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--format", choices=("jsonl", "csv"), default="jsonl")
    parser.add_argument("--anchor", default=DEFAULT_ANCHOR.date().isoformat(),
                        help="date the data ends at (YYYY-MM-DD, UTC); default %(default)s")
    parser.add_argument("--clients", type=int, default=300)
    parser.add_argument("--posts", type=int, default=3000)
    args = parser.parse_args(argv)
    anchor = datetime.fromisoformat(args.anchor).replace(tzinfo=timezone.utc)
    data = generate(args.seed, anchor, clients=args.clients, posts=args.posts)
    for path in write(data, args.out, args.format):
        print(path, file=sys.stderr)
    print(", ".join(f"{len(data[k])} {k}" for k in KINDS))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
