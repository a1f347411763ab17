"""Generate the marketplace seed corpora (deterministic; the JSONL output is committed).

    .venv/bin/python data/seed/generate_seed.py

Writes, next to this file:
  marketplace_posts.jsonl   honest posts per category, self-ads (not_a_job), scams, policy violations
  client_feedback.jsonl     freelancer-about-client feedback with star ratings

Posts are assembled from independent sentence pools so that no two are identical; each
record carries a ``group`` (the core sentence it was built around) so that splits keep
near-duplicates together. ``short_honest_posts.jsonl`` is hand-written, NOT generated
here, and is never used for training; nor is ``short_honest_validation.jsonl`` (threshold
constraint only).
"""
from __future__ import annotations

import json
import random
from pathlib import Path

HERE = Path(__file__).resolve().parent
SEED = 20240501

# ------------------------------------------------------------------ honest posts
CAT: dict[str, dict[str, list[str]]] = {
    "web_mobile_software": {
        "titles": ["Shopify store fixes", "React developer for dashboard", "Fix bugs in Django app", "Flutter app MVP",
                   "WordPress site speed optimisation", "Build REST API in Node.js", "iOS app update for iOS 17",
                   "Laravel developer for booking system", "Chrome extension developer", "Next.js landing page",
                   "Stripe integration for SaaS", "Convert Figma to responsive HTML", "Android app crash fixes",
                   "Python script to automate reports", "Webflow site build"],
        "core": ["We need a developer to fix checkout bugs on our Shopify store and add a size chart to product pages.",
                 "I'm looking for a React developer to build an admin dashboard that reads from our existing REST API.",
                 "Our Django app throws 500 errors on the invoice page after the last upgrade; we need someone to track it down and fix it.",
                 "We want a simple Flutter app for iOS and Android where customers can book a cleaning slot and pay by card.",
                 "Our WordPress site scores 35 on PageSpeed. Please improve load time without breaking the theme.",
                 "Build a small REST API in Node.js/Express with JWT auth, Postgres and tests.",
                 "Update our existing Swift app so it builds for iOS 17 and fix the deprecated APIs.",
                 "We need a booking system in Laravel: customers pick a service, time slot and staff member.",
                 "Build a Chrome extension that saves highlighted text to a Notion database.",
                 "Create a landing page in Next.js from our Figma design, with a contact form wired to our CRM.",
                 "Integrate Stripe subscriptions (monthly and yearly plans) into our SaaS, including webhooks and the customer portal.",
                 "Convert a 5-page Figma design into clean, responsive HTML/CSS with Tailwind.",
                 "Our Android app crashes on some Samsung devices when uploading photos; we have the crash logs from Firebase.",
                 "Write a Python script that pulls data from our Google Sheets and emails a weekly PDF report.",
                 "Move our marketing site from Wix to Webflow and keep the blog URLs working.",
                 "Add a multi-language switcher (English, Spanish, German) to our Vue.js web app.",
                 "Set up automated tests with Playwright for the sign-up and checkout flows of our web app.",
                 "Build a WooCommerce plugin that adds custom shipping rules by postcode.",
                 "We need a WhatsApp chatbot using the official Business API to answer order-status questions.",
                 "Develop a Discord bot that posts our new YouTube videos into a channel."],
        "details": ["The codebase is on GitHub and reasonably documented.", "You will get access to a staging server.",
                    "Please mention similar apps you have shipped.", "We use TypeScript everywhere.",
                    "Code must be handed over with a short README.", "Hosting is on AWS (Elastic Beanstalk).",
                    "We prefer clean commits and a pull request we can review.", "There is an existing design system to follow."],
        "reqs": ["Experience with the framework above is required.", "Please include a link to your GitHub or past work.",
                 "Good written English for async communication.", "Must be comfortable writing unit tests."],
    },
    "design_creative": {
        "titles": ["Logo for a coffee roastery", "Brand identity for yoga studio", "Instagram post templates",
                   "Illustrations for children's book", "Product packaging design", "Explainer video animation",
                   "Restaurant menu redesign", "Podcast cover art", "Photo retouching for e-commerce", "UI design for mobile app",
                   "Business card and letterhead", "T-shirt designs for a run club", "YouTube thumbnail designer",
                   "3D product renders", "Wedding video editing"],
        "core": ["We are opening a small coffee roastery and need a logo that works on bags, cups and signage.",
                 "Looking for a designer to create a brand identity for a yoga studio: logo, colour palette, fonts and a one-page guide.",
                 "Design 10 editable Canva templates for our Instagram posts and stories in our brand colours.",
                 "I need 12 full-page watercolour-style illustrations for a children's picture book about a fox who learns to swim.",
                 "Design the packaging for a line of three natural soaps; dielines are provided by the printer.",
                 "Create a 60-second 2D explainer animation for our budgeting app; script and voice-over are ready.",
                 "Redesign our restaurant menu (two pages, A4) so it is easier to read and matches our new logo.",
                 "Design square cover art for a history podcast, plus a version for YouTube.",
                 "Retouch 150 product photos: white background, consistent shadows, colour correction.",
                 "Design the screens for a habit-tracking mobile app in Figma (about 15 screens, light and dark mode).",
                 "Need business cards and a letterhead for a small accounting firm, print-ready PDF.",
                 "Create three T-shirt designs for our local run club's charity 10k.",
                 "We need a designer for eye-catching YouTube thumbnails, around 8 per month.",
                 "Produce photorealistic 3D renders of our kitchen mixer from the CAD files in four colours.",
                 "Edit a 6-minute highlight video from about 3 hours of wedding footage, with licensed music.",
                 "Draw a set of 20 flat icons for our website's features page.",
                 "Design a trade-show banner (2 m x 1 m) and a matching flyer."],
        "details": ["Please share your portfolio.", "We like minimalist, earthy styles.", "Two rounds of revisions are included.",
                    "Final files: AI, SVG, PNG and PDF.", "We have a mood board to share.", "Our audience is mostly parents aged 30-45.",
                    "You keep the right to show the work in your portfolio after launch."],
        "reqs": ["Portfolio with similar work is a must.", "Experience with Adobe Illustrator or Figma.",
                 "Please tell us your turnaround time.", "Good eye for typography."],
    },
    "writing": {
        "titles": ["Blog writer for SaaS", "Product descriptions for furniture store", "Ghostwriter for LinkedIn posts",
                   "Proofread a 60,000-word novel", "Technical writer for API docs", "Website copy for dental clinic",
                   "Newsletter writer", "Grant proposal writer", "Travel articles about Portugal", "Copy editor for nonprofit report",
                   "Scriptwriter for YouTube channel", "Resume and cover letter rewrite", "Case study writer", "E-book on home gardening"],
        "core": ["We need four 1,500-word blog posts per month on remote-team productivity for our SaaS blog.",
                 "Write 80 product descriptions (about 120 words each) for our online furniture store.",
                 "Looking for a ghostwriter to draft three LinkedIn posts a week from voice notes I send.",
                 "Proofread and copy-edit my 60,000-word fantasy novel before it goes to the typesetter.",
                 "Write developer documentation for our payments API: quick start, authentication and five how-to guides.",
                 "Rewrite the copy for our dental clinic's website (home, services, about, FAQ).",
                 "Write our fortnightly email newsletter for a local food co-op, about 600 words each.",
                 "We are a small charity applying for a community grant and need help writing the 10-page proposal.",
                 "Write six travel articles (1,200 words each) about lesser-known towns in Portugal.",
                 "Copy-edit our 40-page annual impact report for clarity and consistency.",
                 "Write scripts for 8-minute YouTube videos about personal finance, two per week.",
                 "Rewrite my resume and cover letter for product manager roles.",
                 "Interview two of our customers and write case studies of about 1,000 words each.",
                 "Write a 15,000-word e-book on container gardening for beginners."],
        "details": ["Tone should be friendly but expert.", "SEO keywords will be provided.", "All work must be original.",
                    "We use Grammarly and the AP style guide.", "Please share two writing samples you have already published.",
                    "Deadlines are flexible within the week."],
        "reqs": ["Native or near-native English.", "Experience in the niche is a plus.", "Please include links to published work.",
                 "Comfortable with Google Docs comments."],
    },
    "sales_marketing": {
        "titles": ["Google Ads manager", "Facebook ads for online store", "SEO audit and fixes", "Email marketing campaigns in Klaviyo",
                   "Lead generation for B2B software", "Social media manager", "Amazon PPC specialist", "Cold email outreach",
                   "Marketing strategy for new app", "TikTok content creator", "Appointment setter", "HubSpot CRM setup"],
        "core": ["We need someone to manage our Google Ads account (about $3,000/month spend) for a plumbing business.",
                 "Set up and run Facebook and Instagram ads for our handmade jewellery store.",
                 "Do a technical SEO audit of our site and fix the main issues you find.",
                 "Build a welcome series and abandoned-cart flow in Klaviyo for our skincare brand.",
                 "Find 300 qualified leads (operations managers at logistics firms in Germany) with verified business emails.",
                 "Manage our Instagram and LinkedIn: 12 posts a month, replies to comments, monthly report.",
                 "Optimise our Amazon PPC campaigns; ACOS is currently around 45%.",
                 "Write and run a cold email campaign to dental practices for our scheduling software.",
                 "Create a 90-day go-to-market plan for our language-learning app.",
                 "Film and edit 10 short TikTok videos showing our board games being played.",
                 "Call warm leads from our webinar list and book demos into our sales team's calendar.",
                 "Set up HubSpot CRM for a 5-person sales team, including pipelines and email templates."],
        "details": ["Please share results from similar campaigns.", "We will give you access to our ad accounts.",
                    "Reporting weekly in a shared sheet.", "Budget is for management only; ad spend is separate.",
                    "Our market is the UK and Ireland."],
        "reqs": ["Proven track record with numbers.", "Certification is a plus but not required.", "Available for a weekly call.",
                 "Experience in e-commerce preferred."],
    },
    "admin_support": {
        "titles": ["Virtual assistant for calendar and inbox", "Data entry from PDFs into Excel", "Research assistant",
                   "Executive assistant (part-time)", "Transcribe interviews", "Product listing assistant",
                   "Clean up CRM contacts", "Travel planning assistant", "Bookkeeping data entry", "Online research of suppliers",
                   "Podcast show notes and scheduling", "Organise Google Drive"],
        "core": ["I need a virtual assistant for about 10 hours a week to manage my inbox, calendar and travel bookings.",
                 "Enter data from 400 scanned supplier invoices (PDF) into an Excel template.",
                 "Research and compile a list of 150 independent bookshops in the UK with address and website.",
                 "Part-time executive assistant for a startup founder: scheduling, meeting notes and follow-ups.",
                 "Transcribe 12 one-hour interviews (clear audio, two speakers) with timestamps.",
                 "Upload 200 products to our Shopify store from a spreadsheet, including images and variants.",
                 "Clean up and de-duplicate about 5,000 contacts in our CRM.",
                 "Plan a 10-day family trip to Japan: itinerary, hotel options and train passes.",
                 "Categorise a year of bank transactions in Xero using our chart of accounts.",
                 "Find 50 manufacturers of bamboo toothbrushes and collect their minimum order quantities and prices.",
                 "Write show notes and schedule episodes for my weekly podcast.",
                 "Organise our messy shared Google Drive into a clear folder structure and naming scheme."],
        "details": ["Work is ongoing if it goes well.", "Attention to detail is very important.", "We use Asana for tasks.",
                    "Hours are flexible, deadlines are not.", "You will work in our shared workspace."],
        "reqs": ["Good English and fast typing.", "Experience with Google Workspace.", "Available a few hours during US business hours.",
                 "Please describe a similar task you have done."],
    },
    "customer_service": {
        "titles": ["Customer support agent (email)", "Live chat support for online store", "Zendesk support rep",
                   "Weekend phone support", "Customer success for SaaS", "Returns and refunds assistant",
                   "Community moderator for Discord server", "Multilingual support agent", "Help centre articles and ticket triage"],
        "core": ["We need a customer support agent to answer emails in Gorgias for our pet-food subscription, about 60 tickets a day.",
                 "Cover live chat on our online store during European evenings, Monday to Friday.",
                 "Answer support tickets in Zendesk for our accounting software, following our macros.",
                 "Take inbound support calls on weekends for a home-appliance repair company.",
                 "Onboard new customers of our SaaS over video calls and help them set up their first project.",
                 "Process return and refund requests in Shopify and keep customers updated.",
                 "Moderate our game's community Discord server during US evenings and answer common questions.",
                 "Answer support emails in Spanish and Portuguese for our travel booking app.",
                 "Triage incoming tickets and turn the most common questions into help-centre articles."],
        "details": ["Training and macros are provided.", "Response time target is under 4 hours.", "You will use our helpdesk tool.",
                    "Friendly tone is essential.", "Schedule is fixed once agreed."],
        "reqs": ["Prior support experience required.", "Excellent written English.", "Reliable internet connection.",
                 "Experience with Zendesk, Gorgias or Freshdesk."],
    },
    "data_science_analytics": {
        "titles": ["Power BI dashboard", "Churn prediction model", "Clean and analyse survey data", "SQL queries for reporting",
                   "Web scraping product prices", "A/B test analysis", "Forecast monthly sales", "Tableau dashboard",
                   "NLP to classify support tickets", "Google Analytics 4 setup"],
        "core": ["Build a Power BI dashboard from our sales database showing revenue by region and product.",
                 "Build a churn prediction model from our subscription data and explain the main drivers.",
                 "Clean and analyse a 2,000-response customer survey and write up the key findings.",
                 "Write SQL queries against our Postgres database for five weekly reports.",
                 "Scrape prices of about 3,000 products from public retailer websites daily and store them in a database.",
                 "Analyse the results of our checkout A/B test and tell us whether the difference is significant.",
                 "Forecast monthly sales for the next 12 months from 5 years of history, with seasonality.",
                 "Create an interactive Tableau dashboard for our HR team's hiring metrics.",
                 "Train a model to classify our support tickets into 8 categories; we have 20,000 labelled examples.",
                 "Set up Google Analytics 4 and Tag Manager with e-commerce events for our store."],
        "details": ["Data is in BigQuery.", "Please explain your approach before starting.", "Deliver a Jupyter notebook and a short report.",
                    "The dataset is anonymised.", "We prefer Python (pandas, scikit-learn)."],
        "reqs": ["Strong statistics background.", "Experience with SQL and Python.", "Ability to explain results to non-technical people.",
                 "Please share a relevant project."],
    },
    "engineering_architecture": {
        "titles": ["AutoCAD floor plans", "Structural calculations for extension", "SolidWorks model of bracket",
                   "PCB design for sensor board", "3D model of house for planning", "HVAC layout for small office",
                   "Mechanical drawings for manufacturing", "Interior design concept", "Civil drainage plan", "Landscape design"],
        "core": ["Draw floor plans in AutoCAD for a two-storey house from my hand sketches and measurements.",
                 "Need structural calculations for a single-storey rear extension with a steel beam.",
                 "Create a SolidWorks model and drawing of an aluminium mounting bracket for CNC machining.",
                 "Design a two-layer PCB for an ESP32 sensor board with a battery charger, in KiCad.",
                 "Make a 3D model and renders of a house extension for a planning application.",
                 "Design the HVAC layout for a 300 m2 office fit-out.",
                 "Produce manufacturing drawings with tolerances for a plastic enclosure.",
                 "Create an interior design concept and mood boards for a 40 m2 café.",
                 "Prepare a drainage plan for a small residential development.",
                 "Design the garden landscaping for a 200 m2 back garden, with planting plan."],
        "details": ["Drawings must follow local building codes.", "Files in DWG and PDF.", "Site photos are available.",
                    "A licensed engineer's stamp is needed for the calculations.", "Please state your software."],
        "reqs": ["Relevant qualification required.", "Portfolio of similar drawings.", "Experience with local regulations is a plus.",
                 "Familiar with SolidWorks or Fusion 360."],
    },
    "it_networking": {
        "titles": ["Set up Microsoft 365 for small office", "AWS cost optimisation", "Linux server hardening", "Office network and Wi-Fi",
                   "Kubernetes cluster setup", "Migrate email to Google Workspace", "Backup and disaster recovery plan",
                   "Firewall configuration", "Help desk support for small business", "Set up VPN for remote staff"],
        "core": ["Set up Microsoft 365 for a 12-person office, including email migration, Teams and MFA.",
                 "Review our AWS account and reduce our monthly bill without affecting uptime.",
                 "Harden two Ubuntu servers: SSH keys only, firewall, fail2ban and automatic security updates.",
                 "Design and install the network and Wi-Fi for a three-floor office.",
                 "Set up a small Kubernetes cluster with monitoring and CI deploys from GitHub Actions.",
                 "Migrate 25 mailboxes from cPanel to Google Workspace with no lost email.",
                 "Design a backup and disaster recovery plan for our on-prem file server and Microsoft 365.",
                 "Configure our pfSense firewall with VLANs for guests, staff and cameras.",
                 "Remote help desk support for a 20-person company, about 5 hours a week.",
                 "Set up a WireGuard VPN so remote staff can reach our office NAS."],
        "details": ["Documentation of what you change is required.", "Work happens outside office hours.", "We can give remote access.",
                    "Please estimate hours up front."],
        "reqs": ["Relevant certifications (e.g. CCNA, AWS) are a plus.", "Experience with small business IT.", "Security-minded.",
                 "Available for a short call before starting."],
    },
    "translation": {
        "titles": ["Translate website English to Spanish", "German to English legal translation", "Subtitle translation",
                   "Japanese localisation of mobile game", "French proofreading", "Certified translation of documents",
                   "Translate product manual into Polish", "Arabic transcreation for ads"],
        "core": ["Translate our website (about 8,000 words) from English into Latin American Spanish.",
                 "Translate a 12-page commercial contract from German into English.",
                 "Translate the subtitles (SRT) of a 90-minute documentary from English into French.",
                 "Localise the in-game text of our mobile puzzle game into Japanese, about 5,000 words.",
                 "Proofread a French translation of our user guide against the English source.",
                 "Certified translation of a birth certificate and a diploma from Italian into English.",
                 "Translate a 30-page product manual for a coffee machine into Polish.",
                 "Adapt our ad copy for the Saudi and UAE markets in Arabic."],
        "details": ["Files are in Word and XLIFF.", "We use a glossary that must be followed.", "Machine translation is not acceptable.",
                    "Deadline is in ten days."],
        "reqs": ["Native speaker of the target language.", "Experience with CAT tools such as Trados or memoQ.",
                 "Sworn/certified translators preferred for this job.", "Please quote per word."],
    },
    "accounting_consulting": {
        "titles": ["Bookkeeper for QuickBooks", "Financial model for startup", "UK VAT return", "Business plan for bank loan",
                   "Year-end accounts for small company", "Payroll setup", "Management consultant for operations review",
                   "Fractional CFO", "Sales tax nexus review"],
        "core": ["We need a bookkeeper to reconcile our QuickBooks Online accounts each month.",
                 "Build a three-statement financial model for our seed fundraise.",
                 "Prepare and file our quarterly VAT return through Making Tax Digital.",
                 "Write a business plan with cash-flow projections for a bank loan for our bakery.",
                 "Prepare year-end accounts and the corporation tax return for a small limited company.",
                 "Set up payroll for five employees in Gusto.",
                 "Review our warehouse operations and recommend how to cut picking errors.",
                 "Part-time fractional CFO to prepare board reporting and manage cash flow.",
                 "Review which US states we owe sales tax in after our online sales grew."],
        "details": ["Our books are reasonably up to date.", "We use Xero.", "Confidentiality is important.", "Ongoing monthly work."],
        "reqs": ["Qualified accountant (ACCA, CPA or similar).", "Experience with small businesses.", "Knowledge of UK tax rules.",
                 "References appreciated."],
    },
    "legal": {
        "titles": ["Review a SaaS terms of service", "Trademark search and filing", "Draft an NDA", "GDPR privacy policy",
                   "Employment contract template", "Review commercial lease", "Company incorporation advice", "Contract dispute advice"],
        "core": ["Review our SaaS terms of service and privacy policy before launch.",
                 "Run a trademark search for our brand name and file in the EU if it is clear.",
                 "Draft a mutual NDA for discussions with potential manufacturing partners.",
                 "Write a GDPR-compliant privacy policy and cookie notice for our app.",
                 "Draft an employment contract template for remote employees in California.",
                 "Review a five-year commercial lease for a small shop and flag risky clauses.",
                 "Advise on incorporating a Delaware C-corp with two founders and an option pool.",
                 "Advise on a dispute with a supplier who delivered late and refuses a refund."],
        "details": ["Documents will be shared under NDA.", "A short call to discuss would help.", "Please state your jurisdiction."],
        "reqs": ["Licensed attorney or solicitor.", "Experience with startups.", "Please quote a fixed fee."],
    },
}

OPENERS = ["Hi there!", "Hello,", "Hi,", "", "", "", "About us: we are a small family business.", "We are a growing startup.",
           "Hello freelancers,", "Quick project:", "Looking for help with the following.", ""]
BUDGETS = ["Budget is ${n}.", "Fixed price: ${n}.", "Budget around ${n}, negotiable.", "Paying ${h}/hr.", "Hourly rate up to ${h}/hr.",
           "", "", "Please quote your price.", "Budget: ${lo}-{hi}."]
TIMES = ["Deadline: 2 weeks.", "Needs to be done within 5 days.", "Start next Monday.", "Ongoing work for the right person.",
         "Timeline is flexible.", "", "We'd like to launch by the end of the month."]
CLOSERS = ["Thanks!", "Looking forward to your proposals.", "Please start your proposal with your favourite colour so I know you read this.",
           "Thank you.", "", "", "Apply with a short note about your approach.", "Happy to answer questions in the chat here."]


def _money(rng: random.Random) -> dict[str, str]:
    n = rng.choice([50, 80, 120, 150, 200, 250, 300, 400, 500, 750, 1000, 1500, 2500])
    return {"n": f"{n:,}", "h": str(rng.choice([15, 20, 25, 30, 40, 50, 60, 75])), "lo": str(n), "hi": str(n * 2)}


def _fmt(s: str, rng: random.Random) -> str:
    m = _money(rng)
    return s.replace("{n}", m["n"]).replace("{h}", m["h"]).replace("{lo}", m["lo"]).replace("{hi}", m["hi"])


def _honest(rng: random.Random, cat: str, core: str, short: bool) -> tuple[str, str]:
    pool = CAT[cat]
    title = rng.choice(pool["titles"])
    parts = [core]
    if not short:
        op = rng.choice(OPENERS)
        if op:
            parts.insert(0, op)
        parts += rng.sample(pool["details"], k=rng.randint(1, min(3, len(pool["details"]))))
        parts.append(rng.choice(pool["reqs"]))
        parts += [_fmt(rng.choice(BUDGETS), rng), rng.choice(TIMES), rng.choice(CLOSERS)]
    else:
        parts.append(_fmt(rng.choice(BUDGETS[:5]), rng))
    text = " ".join(p for p in parts if p)
    if not short and rng.random() < 0.5:
        sents = text.split(". ")
        cut = rng.randint(1, max(1, len(sents) - 1))
        text = ". ".join(sents[:cut]) + ".\n\n" + ". ".join(sents[cut:])
        text = text.replace("..", ".")
    if rng.random() < 0.15:
        title = title.lower()
    return title, text


# ------------------------------------------------------------------ short honest training posts
#: hand-written short (<= 250 chars) honest posts, several per category, so the category and
#: policy models see short, plainly worded jobs (incl. legitimate mentions of Telegram, Slack,
#: Skype...). Written independently of short_honest_posts.jsonl (test) and
#: short_honest_validation.jsonl (threshold constraint); neither is near-duplicated here.
SHORT_HONEST_TRAIN = {
    "web_mobile_software": [
        ("Fix broken image slider", "The image slider on our homepage stopped moving after a theme update. Should be a quick fix."),
        ("Telegram order notifications", "Send a message to our staff Telegram group whenever a new Shopify order comes in."),
        ("Signal-style chat UI", "Build a simple chat screen in React Native that looks like Signal. Backend already exists."),
        ("Add reCAPTCHA to forms", "Add Google reCAPTCHA v3 to the two forms on our PHP site to stop spam."),
        ("Migrate site to new host", "Move a small WordPress site from Bluehost to SiteGround with no downtime."),
        ("Slack bot for standups", "Slack bot that asks our team three standup questions each morning and posts answers."),
        ("Fix CSS on mobile", "Our pricing table overflows on phones. Please fix the CSS so it stacks nicely."),
        ("Excel to web form", "Turn our Excel order form into a simple web form that saves to Google Sheets."),
        ("Fix iOS push notifications", "Push notifications stopped arriving on iPhones after we renewed our Apple certificate."),
        ("Small Django admin change", "Add two filters and a CSV export button to our Django admin orders page."),
        ("Website cookie banner", "Install a GDPR cookie consent banner on our Squarespace site and block trackers until consent."),
        ("Speed up database query", "One Postgres query on our product page takes 4 seconds. Add indexes or rewrite it."),
    ],
    "design_creative": [
        ("Logo for tutoring service", "Simple, friendly logo for a maths tutoring service for teenagers."),
        ("Instagram highlight covers", "Eight highlight cover icons for a travel blogger, beige and white."),
        ("Edit product video", "Cut a 45-second product video from 10 minutes of footage, add captions."),
        ("Restaurant window decal", "Design a window decal with our opening hours for a ramen bar."),
        ("Book interior layout", "Lay out a 120-page poetry book for print in InDesign, 5x8 inches."),
        ("Cartoon avatar", "Draw a cartoon avatar of me for my YouTube channel from a photo."),
        ("Brochure for yoga retreat", "Tri-fold brochure for a weekend yoga retreat, photos supplied."),
        ("Colour grade short film", "Colour grade a 7-minute short film shot on a Sony camera."),
        ("Pet portrait illustration", "Digital portrait of my two cats in a cartoon style, for a birthday gift."),
        ("Packaging sticker for tea", "Round sticker design for our loose-leaf tea pouches, three flavours."),
        ("Podcast episode artwork", "Artwork template for podcast episodes that I can edit in Canva each week."),
        ("Photo restoration", "Restore an old scratched wedding photo from 1965 and add light colour."),
    ],
    "writing": [
        ("Case study write-up", "Turn a customer interview into a one-page case study for our software company."),
        ("Proofread novel chapter", "Proofread one 5,000-word chapter of my fantasy novel."),
        ("Website copy for dentist", "Write homepage and services copy for a family dental practice."),
        ("Press release", "Press release announcing our new bakery branch opening in May."),
        ("Eulogy help", "Help me write a short eulogy for my grandfather from my notes."),
        ("Cover letter for teacher", "Write a cover letter for a primary school teaching job."),
        ("Email newsletter copy", "Monthly email newsletter for a garden centre, about 400 words."),
        ("Technical blog edit", "Edit a technical blog post about Kubernetes for clarity. 1,500 words."),
        ("Children's story edit", "Edit my 1,000-word bedtime story for children aged 4 to 6."),
        ("White paper outline", "Outline a white paper on energy savings for small factories."),
        ("Job adverts for bakery", "Write three job adverts for roles at our small bakery: baker, barista, driver."),
        ("Travel guide article", "800-word guide to a weekend in Porto for our travel blog."),
    ],
    "sales_marketing": [
        ("SEO for local plumber", "Improve local SEO for a plumbing business: citations and on-page fixes."),
        ("Email list cleanup", "Segment our Mailchimp list of 4,000 contacts by purchase history."),
        ("YouTube channel strategy", "Review my cooking YouTube channel and suggest a posting plan."),
        ("LinkedIn ads", "Run a small LinkedIn ads test for an HR software product, $500 budget."),
        ("Product launch plan", "Marketing plan for launching a new line of hot sauces online."),
        ("Influencer outreach list", "Find 40 micro-influencers in home baking and list their public profiles."),
        ("Amazon listing copy", "Rewrite our Amazon listing title and bullet points for a camping lantern."),
        ("Referral programme ideas", "Ideas for a referral programme for a window cleaning company."),
        ("Sales deck review", "Review our 15-slide sales deck and suggest stronger messaging."),
        ("Facebook group growth", "Ideas and a 30-day plan to grow a local running club Facebook group."),
        ("Trade show follow-up", "Write follow-up emails for 60 leads we met at a trade show."),
        ("Competitor pricing research", "Compare pricing pages of 8 competitors in project management software."),
    ],
    "admin_support": [
        ("Organise Google Drive", "Tidy up our shared Google Drive into clear folders and remove duplicates."),
        ("Type handwritten notes", "Type up 15 pages of handwritten meeting notes into a Word document."),
        ("Schedule social posts", "Schedule 20 posts I have already written in Buffer over the next month."),
        ("Product listing upload", "Upload 80 products with photos to our WooCommerce store from a spreadsheet."),
        ("Appointment reminders", "Phone or email 30 clients to confirm next week's appointments."),
        ("Research venues", "Find 10 venues in Manchester for a 60-person workshop with prices."),
        ("Update price list", "Update prices in our 12-page catalogue PDF from a new price list."),
        ("Virtual assistant for bookings", "Assistant to handle booking requests for a photography studio, 6 hours a week."),
        ("Fill in supplier forms", "Complete onboarding paperwork for 5 new suppliers using info I provide."),
        ("Tidy contact list", "Merge three contact spreadsheets into one and fix the formatting."),
        ("Order office supplies", "Compare prices and place a monthly office supplies order online for us."),
        ("Transcribe voice memos", "Turn 12 short voice memos into a typed to-do list each week."),
    ],
    "customer_service": [
        ("Reply to Etsy messages", "Answer customer questions for my Etsy jewellery shop, about 20 a day."),
        ("Phone support evenings", "Take phone calls for a heating repair company on weekday evenings."),
        ("Help centre articles", "Write 10 help centre articles for our booking software's common questions."),
        ("Chat support in French", "French-speaking chat agent for an online shoe store, part-time."),
        ("Complaint handling", "Handle customer complaints by email for a furniture delivery company."),
        ("Order status emails", "Reply to order status emails using our Shopify admin, mornings only."),
        ("Support ticket triage", "Tag and route incoming support tickets in Freshdesk for our SaaS."),
        ("Satisfaction survey by phone", "Run a short 3-question satisfaction survey by phone with 50 of our customers and log the answers."),
        ("Refund requests", "Process refund requests in Stripe and reply to the customers, about 15 a week."),
        ("New client welcome calls", "Make welcome calls to new gym members and answer questions about classes."),
        ("Community forum moderator", "Answer questions and keep our product forum tidy for 10 hours a week."),
        ("Warranty claims", "Handle warranty claim emails for a bicycle brand and arrange replacement parts."),
    ],
    "data_science_analytics": [
        ("Excel dashboard", "Build a simple Excel dashboard tracking weekly sales and stock levels."),
        ("Python data cleaning", "Clean a messy CSV of 20,000 addresses with pandas and remove duplicates."),
        ("Customer churn analysis", "Look at our subscription data and tell us why customers cancel."),
        ("SQL report fix", "A monthly revenue SQL report double-counts refunds. Please fix the query."),
        ("Looker Studio report", "Connect Google Ads and GA4 to a Looker Studio report with 5 charts."),
        ("Statistics help", "Run a t-test and regression on my thesis survey data and explain results."),
        ("Web analytics audit", "Check our Google Tag Manager setup and fix events that do not fire."),
        ("Inventory forecast", "Forecast weekly demand for 30 products from two years of sales."),
        ("Cohort analysis", "Cohort retention analysis of our app users from a CSV export."),
        ("Clean CRM export", "Standardise company names and countries in a CRM export of 8,000 rows."),
        ("Heatmap of deliveries", "Map our delivery addresses and show a heatmap by postcode."),
        ("KPI definitions", "Help define 6 KPIs for our online shop and build the formulas in Sheets."),
    ],
    "engineering_architecture": [
        ("Kitchen layout drawing", "Draw three kitchen layout options to scale from my measurements."),
        ("CAD drawing cleanup", "Clean up and dimension a DWG drawing of a steel frame for a workshop."),
        ("Structural calc for beam", "Calculate a steel beam size for a 4 m wall opening in a house."),
        ("3D model for injection moulding", "Model a plastic enclosure for a small circuit board, ready for moulding."),
        ("Solar panel layout", "Roof layout for 12 solar panels on a south-facing roof, with wiring sketch."),
        ("Garden room plans", "Plans for a 3x4 m garden office for planning approval."),
        ("Arduino circuit review", "Check my Arduino circuit for a plant watering system before I solder it."),
        ("Revit family", "Create a Revit family for a custom shelving unit from our drawings."),
        ("Shed foundation advice", "Advise on a concrete base for a 3x3 m shed on sloping ground."),
        ("Bike part drawing", "Technical drawing of a bicycle bracket for a machine shop, with tolerances."),
        ("Electrical plan for studio", "Lighting and socket layout for a small photo studio."),
        ("Drainage for wet lawn", "Our back lawn floods every winter. Propose a French drain layout with levels."),
    ],
    "it_networking": [
        ("Set up company email", "Set up Google Workspace email for 4 staff and move old emails over."),
        ("Fix slow office network", "Find out why our office network drops every afternoon. 10 devices."),
        ("Firewall rules", "Review the firewall rules on our pfSense box and tighten them."),
        ("Password manager rollout", "Set up Bitwarden for a team of 8 and import their passwords."),
        ("Docker server setup", "Install Docker on an Ubuntu VPS and run our app with Nginx in front."),
        ("Teams migration from Skype", "Move our small team from Skype for Business to Microsoft Teams."),
        ("Backup for small office", "Set up nightly backups of our office server to Backblaze."),
        ("Mac setup for new hire", "Remote setup of a new MacBook with our apps and security settings."),
        ("Domain transfer", "Transfer our domain from GoDaddy to Cloudflare and keep email working."),
        ("Printer setup for Macs", "Set up a shared office printer for six Macs."),
        ("Website downtime alerts", "Set up uptime monitoring with alerts by email for three websites."),
        ("Reset admin access", "We lost the admin password to our router. Help reset and secure it."),
    ],
    "translation": [
        ("CV translation, Spanish source", "My CV is in Spanish and I need an English version for job applications in Ireland."),
        ("Menu translation to Chinese", "Translate a restaurant menu of 60 dishes into Simplified Chinese."),
        ("Legal letter from French", "Translate a one-page letter from a French lawyer into English."),
        ("Italian version of our site", "We need an Italian version of our five-page website, roughly 2,000 words."),
        ("Subtitles in Arabic", "Arabic subtitles for a 3-minute product video, SRT provided in English."),
        ("Swedish product manual", "Translate a short product manual for a kettle into Swedish."),
        ("Greek medical records", "I need my hospital discharge notes, written in Greek, in English for my GP here."),
        ("App store text", "Translate our App Store description into German, French and Spanish."),
        ("Wedding speech to Polish", "Translate a 3-minute wedding speech into Polish so I can read it aloud."),
        ("Hungarian family recipes", "My grandmother's 15 recipes are in Hungarian; I need them in English for a family cookbook."),
        ("Indie game localisation", "Localise 2,000 words of dialogue for our indie game into Latin American Spanish."),
        ("Tourist leaflet", "Translate a museum leaflet into Japanese and Korean, 400 words."),
    ],
    "accounting_consulting": [
        ("Catch up bookkeeping", "Catch up six months of bookkeeping in Xero for a small cafe."),
        ("Self-assessment tax return", "Prepare my UK self-assessment return, one rental property."),
        ("Cash flow advice", "Review my cash flow spreadsheet and suggest how to survive a slow winter."),
        ("Sales tax setup", "Set up sales tax correctly in our Shopify store for US customers."),
        ("Invoice process", "Advise on a simple invoicing process for a three-person agency."),
        ("Startup valuation question", "One call to explain how to value a small startup for a first investor."),
        ("Expense policy", "Write a simple expense policy for a team of 12."),
        ("Fix wrong expense categories", "Many 2023 transactions in our QuickBooks sit in the wrong expense categories. Please correct them."),
        ("Pricing spreadsheet", "Build a spreadsheet to calculate product margins for a small bakery."),
        ("Grant budget help", "Help me prepare the budget section of a small arts grant."),
        ("Sole trader or company", "Advice call: should I stay a sole trader or set up a limited company?"),
        ("Monthly management report", "Monthly one-page profit and loss summary from our Xero data."),
    ],
    "legal": [
        ("Shareholder agreement review", "Review a shareholder agreement for a two-founder startup and flag issues."),
        ("Music licensing question", "Can I use a cover song in my YouTube video? Need advice on licensing."),
        ("Cease and desist letter", "Draft a cease and desist letter to a company copying our product photos."),
        ("Website disclaimer", "Write a disclaimer and terms of use for a personal finance blog."),
        ("Tenant deposit dispute", "Advice on getting my deposit back from a landlord in England."),
        ("LLC operating agreement", "Draft an operating agreement for a two-member LLC in Texas."),
        ("Freelancer contract review", "Review a contract a client sent me before I sign it. 4 pages."),
        ("Data processing agreement", "Draft a GDPR data processing agreement with our email provider."),
        ("Collaboration agreement", "Draft a simple agreement for a paid Instagram collaboration with a fitness creator."),
        ("Refund policy wording", "Write a clear refund and returns policy for a UK online shop."),
        ("Noise complaint letter", "Draft a formal letter to my landlord about ongoing noise from a neighbour."),
        ("Photo release form", "Model release form for portrait photography sessions."),
    ],
}


#: hand-written SHORT scams, so that short posts are not learned as "honest" merely because
#: the short honest training posts above are short (written independently of the unit-test
#: examples in tests/unit/classifiers/test_detectors.py)
SHORT_SCAMS = [
    # money up front / paid training
    ("admin_support", "Online assistant, kit required", "Online assistant wanted. A one-time registration fee of $75 activates your account and work materials."),
    ("customer_service", "Call centre agent from home", "Call centre agents needed from home. Buy the headset and training course from our partner ($120) before your first shift."),
    ("writing", "Paid writers, enrol today", "Earn $400 per week writing short articles. Pay the $49 membership fee to access paid assignments."),
    # fake cheque
    ("admin_support", "Errand runner wanted", "A cheque of $2,400 arrives by post tomorrow. Bank it with mobile deposit, take your $350 wage and wire what is left to our mover."),
    ("design_creative", "Mural artist for my home", "I'll send a check for materials. Cash it and forward the extra to our decorator, then start painting."),
    ("accounting_consulting", "Payment processing agent", "Receive customer payments into your bank account and wire the remainder to us, keeping 10% commission."),
    # reshipping
    ("admin_support", "Parcel coordinator from home", "Receive parcels at your home, check the contents, repackage and forward them to the addresses we send. $30 per parcel."),
    ("customer_service", "Quality inspector, work from home", "Package inspector needed: accept deliveries at your address and reship them with our prepaid labels."),
    ("sales_marketing", "Shipping agent", "Earn $2,000 monthly forwarding electronics packages to our overseas customers from your home."),
    # personal data
    ("admin_support", "Payroll assistant", "Congratulations! To set up payroll send your bank login and social security number to our HR team today."),
    ("data_science_analytics", "Survey tester", "Quick paid survey tester. Send a copy of your passport and your credit card details to verify your identity."),
    ("customer_service", "Remote receptionist", "Hired without interview. Email your SSN, date of birth and bank account details to start tomorrow."),
    # chat-app interviews
    ("admin_support", "Virtual assistant - interview on Telegram", "Interviews are held on Telegram only. Message the HR officer @hr_lisa_recruits to begin onboarding."),
    ("customer_service", "Chat agent, immediate start", "Text the hiring manager on WhatsApp to schedule your interview. Immediate start, no experience needed."),
    ("writing", "Content reviewer", "Screening is done via Google Hangouts. Add our recruiting agent to receive your offer letter today."),
    # easy money
    ("sales_marketing", "Earn from your phone", "Earn $300 a day from your phone! No experience required, guaranteed income, weekly payouts."),
    ("admin_support", "Simple online job", "Easy money working from home. Earn $50 per hour with unlimited earning potential. Apply now."),
    ("data_science_analytics", "Data checker, $900 weekly", "No prior experience needed. Guaranteed pay of $900 every week for checking simple spreadsheets from home."),
    # crypto / task schemes
    ("sales_marketing", "App rating tasks", "Rate apps and earn commission per task. Top up your account with USDT to unlock higher paying task sets."),
    ("admin_support", "Product optimisation job", "Complete 40 orders to earn commission. Recharge your account when a premium order appears, refunded the same day."),
    ("accounting_consulting", "Crypto trading assistant", "Manage a trading account for us. Deposit into your crypto wallet first and we double it within 48 hours."),
    # phishing links / forms
    ("customer_service", "Support agent - apply by link", "Click the link bit.ly/work-apply-now and fill in the form to verify your details and book an interview."),
    ("web_mobile_software", "Junior tester wanted", "Shortlisted! Complete the onboarding form at forms.gle/q8Hjob and confirm your account with your email password."),
    ("writing", "Editor role, verify today", "To get started verify your identity using the link in your inbox and log in with your PayPal credentials."),
    # gift cards
    ("admin_support", "Personal shopper for my office", "Buy five $100 gift cards for our staff, scratch them and send me photos of the codes. You will be reimbursed."),
    ("sales_marketing", "Promotion assistant", "Purchase iTunes cards for a client promotion and send the card numbers. Refund plus $200 fee by Friday."),
    ("customer_service", "Customer rewards helper", "You will be paid in Steam cards and Google Play cards every week for answering simple messages."),
    # data entry from home
    ("admin_support", "Typing job from home", "Home-based typing and data entry work. Earn $40 per hour, no skills needed, start today."),
    ("admin_support", "Form filling job", "Form filling from home, $600 per week. Pay a small software fee to receive your first batch of forms."),
    ("admin_support", "Copy paste work", "Copy-paste work at home, earn daily. Register with a refundable deposit of $25 to receive tasks."),
    # mixed / short
    ("customer_service", "Mystery shopper", "Mystery shopper needed. We send you a check, you deposit it, buy gift cards with part of it and mail us the codes."),
    ("web_mobile_software", "App beta tester, paid daily", "Paid daily for testing apps. Buy our starter kit for $99 to get your tester account and device profile."),
    ("design_creative", "Logo contest with fee", "Pay a $30 entry fee to submit logos; winners earn $500 per week for ongoing designs."),
    ("translation", "Translator, instant hire", "Instant hire for translators. Send your bank account number and routing number so we can pay your signing bonus."),
    ("sales_marketing", "Brand ambassador", "Become a brand ambassador and earn $250 a day. Pay the training fee and we refund it after your first sale."),
    ("legal", "Legal document courier", "Receive legal documents and packages at home and forward the parcels to our clients abroad. $45 each."),
]


# ------------------------------------------------------------------ self-ads (not_a_job)
SELF_AD_CORE = [
    "I am a professional graphic designer with 5 years of experience in logos and branding. Hire me for your next project!",
    "Looking for work as a virtual assistant. I am organised, reliable and available 40 hours a week.",
    "Experienced full-stack developer (React, Node, Python) available for long-term projects. Check my portfolio and send me an offer.",
    "I am a native English writer offering SEO blog posts and website copy. Fast turnaround and unlimited revisions.",
    "Hello, I am a data entry expert with 99% accuracy and typing speed of 70 wpm. I am ready to start working today.",
    "Certified accountant offering bookkeeping services in QuickBooks and Xero at affordable rates.",
    "I'm a freelance video editor seeking new clients. I edit YouTube videos, reels and wedding films.",
    "Available for hire: Spanish-English translator with 8 years of experience in legal and medical texts.",
    "I am searching for a remote job in customer service. I have 3 years of call-centre experience.",
    "Hi, I am a WordPress developer and I can build your website in 3 days. Message me to discuss your needs.",
    "Social media manager available! I will grow your Instagram organically. Let's work together.",
    "I need a job. I can do data entry, typing, copy paste and any online work. Please give me a chance.",
    "Professional mobile app developer here. I build iOS and Android apps with Flutter. Open to new projects.",
    "Experienced CAD drafter offering AutoCAD and Revit drawings. Contact me through my profile for a quote.",
    "I am a student looking for part-time online work. I am a fast learner and very hardworking.",
    "Top-rated SEO specialist offering complete on-page and off-page SEO packages. Order now!",
    "My name is Maria and I am an illustrator. I am open for commissions: children's books, portraits and stickers.",
    "Offering my services as a Python developer and data analyst. I have completed 120 projects with 5-star reviews.",
    "Seeking freelance opportunities in IT support and network administration. CCNA certified.",
    "I am a lawyer offering contract drafting and review services to startups. Reasonable fixed fees.",
    "Looking for clients! I design modern logos, business cards and flyers. Fast delivery guaranteed.",
    "Experienced transcriptionist available for audio and video transcription. 24 hour delivery.",
    "I will be your personal assistant. Email management, scheduling, research - I can do it all.",
    "Hire me as your Shopify expert. I set up stores, themes and apps. Available now.",
    "I'm a marketing consultant open to new clients; I help small businesses grow with Facebook ads.",
    "Freelance copywriter here, looking for work writing product descriptions and newsletters.",
    "Available to work as a chat support agent, nights and weekends, with my own laptop and fast internet.",
    "I am a qualified civil engineer looking for freelance structural design work.",
    "Voice-over artist with a warm British accent, available for ads, e-learning and audiobooks.",
    "Data scientist available for freelance machine learning and dashboard projects. See my GitHub.",
]
SELF_AD_TITLES = ["Hire me", "Looking for work", "Available for projects", "Professional services offered", "Open to work",
                  "Freelancer available", "My services", "Need a job", "Ready to start today", "Experienced freelancer"]
SELF_AD_EXTRA = ["I offer affordable rates.", "Satisfaction guaranteed.", "I am available full time.", "Please check my profile.",
                 "I can start immediately.", "Thank you for considering me.", "Let's discuss your project.", ""]

# ------------------------------------------------------------------ scams
SCAM_CORE = [
    ("admin_support", "Data entry clerk - work from home",
     "We are hiring data entry clerks to work from home. No experience needed, earn $500 per week. Contact the hiring manager on Telegram @{h} for an interview."),
    ("admin_support", "Remote data entry, immediate start",
     "Home-based data entry and typing jobs available. Earn $35 per hour. To get started you must purchase the training software for $89, which is refunded with your first paycheck."),
    ("admin_support", "Personal assistant needed",
     "I am travelling and need a personal assistant. I will send you a check to deposit, keep $300 for your time and send the remaining balance to my vendor by Zelle."),
    ("admin_support", "Package handling coordinator",
     "We need package handling coordinators to receive packages at your home, inspect them and forward the packages to our overseas customers using the prepaid labels we provide. Weekly pay."),
    ("customer_service", "Customer service representative (remote)",
     "Our company is hiring remote customer service representatives. The interview will be conducted on Google Hangouts with our HR manager. After hiring you will receive a check to purchase equipment from our approved vendor."),
    ("sales_marketing", "App rating tasks - flexible hours",
     "Earn commission by completing simple tasks: rate apps and earn up to $200 per day. You need to top up your account with USDT to unlock each set of tasks. Message our team on WhatsApp +1 {p}."),
    ("admin_support", "Online survey assistant",
     "Complete online surveys from home and earn $50 per survey. Guaranteed income! Pay a one-time registration fee of $25 to activate your account."),
    ("customer_service", "Chat moderator, high pay",
     "Become a chat moderator. Weekly pay, no experience required. Click the link bit.ly/{h} to fill out the form and verify your identity to get started."),
    ("admin_support", "Virtual assistant - urgent",
     "Urgently hiring a virtual assistant. Send your full name, date of birth and bank account details so payroll can set up your direct deposit before the interview."),
    ("data_science_analytics", "Crypto trading assistant",
     "Join our investment platform as a crypto trading assistant. Deposit $100 into your trading account and earn guaranteed returns of 30% weekly. Text me on WhatsApp {p2}."),
    ("writing", "Book reviewers wanted",
     "Get paid to read and review books from home. Earn $80 per review. A refundable membership fee of $40 is required. Contact our editor at {email}."),
    ("design_creative", "Graphic designer for new company",
     "We are a new company and need a designer. Before we can send the brief, please verify your account details at our portal and log in with your PayPal password so we can set up payment."),
    ("admin_support", "Mystery shopper",
     "Become a mystery shopper. You will receive a cheque for $1,950, deposit it, use $200 to evaluate a money transfer service and send the rest via Western Union. Keep $300 as your pay."),
    ("web_mobile_software", "Developers needed - onboarding via Telegram",
     "Our recruiter will interview you on Telegram. Please add the hiring manager {h} on Telegram and send a copy of your ID and passport for verification."),
    ("admin_support", "Like and follow tasks",
     "Simple online job: like videos and earn $5 per task, $150 daily guaranteed. Recharge your account to unlock premium tasks with bigger commission. WhatsApp: +44 {p3}."),
    ("customer_service", "Remote customer support, paid training",
     "Hiring now! Remote customer support agents. You will need to pay for your training and starter kit ($150) which covers the software licence. Earn $1,200 per week."),
    ("sales_marketing", "Product reviewer - easy money",
     "Easy money from home: buy products with your own card, we reimburse you plus commission after you send us your bank login details for the transfer."),
    ("admin_support", "Payment processing agent",
     "We need a payment processing agent in your area. You will receive payments from our customers into your bank account and transfer them to our partners, keeping 10% commission."),
    ("accounting_consulting", "Accounts receivable clerk",
     "Work from home as an accounts receivable clerk. Process payments from our clients through your personal account and forward the funds by gift cards. Earn $3,000 per month."),
    ("translation", "Translators needed urgently",
     "Translators needed, earn $0.50 per word. Before the first assignment you must pay a $60 certification fee. Contact HR on Skype: live:{h}."),
    ("admin_support", "Typing job - 100% legit",
     "100% legit typing job from home, earn $300 per day. No skills needed. Send $30 activation fee via Cash App and start today. Text 5 5 5 {p4}."),
    ("web_mobile_software", "Interview link - senior developer",
     "Congratulations, you have been shortlisted. Please complete the interview form at forms.gle/{h} and confirm your details within 24 hours."),
    ("customer_service", "Work-from-home reshipping job",
     "Reshipping manager needed: receive parcels at your home, repackage them and send them to the addresses we give you. $2,500 monthly salary plus bonuses."),
    ("admin_support", "Executive assistant to CEO",
     "Hello, I need an assistant to run errands for me while I'm abroad. I will mail you a check to buy gift cards for our clients and you scratch and send the codes to me. Contact me at {email}."),
]


OFF_KEYS = ("Telegram", "WhatsApp", "@", "Skype", "Hangouts", "Text 5", "Zelle", "Western Union", "Cash App")


def _handle(rng: random.Random) -> str:
    return rng.choice(["hr_", "jobs", "recruit", "mgr", "hiring", "career", "talent", "work"]) + rng.choice(["amelia", "daniel", "sophia", "group", "team", "office", "desk"]) + str(rng.randint(1, 99))


def _scam(rng: random.Random, idx: int) -> dict:
    cat, title, core = SCAM_CORE[idx % len(SCAM_CORE)]
    email = _handle(rng) + rng.choice(["@gmail.com", "@outlook.com", "@yahoo.com", "@protonmail.com"])
    core = (core.replace("{h}", _handle(rng)).replace("{p}", f"({rng.randint(200, 989)}) {rng.randint(200, 989)}-{rng.randint(1000, 9999)}")
            .replace("{p2}", f"+1 {rng.randint(200, 989)} {rng.randint(200, 989)} {rng.randint(1000, 9999)}")
            .replace("{p3}", f"7{rng.randint(100, 999)} {rng.randint(100000, 999999)}")
            .replace("{p4}", " ".join(str(rng.randint(0, 9)) for _ in range(7))).replace("{email}", email))
    extras = ["Limited positions available, apply now.", "Flexible hours, work from anywhere.", "This is a legitimate opportunity.",
              "Only serious applicants.", "Start today.", "We are an international company with offices in many countries.",
              "Payment is made every Friday.", "", "", "Please reply quickly, slots are filling fast."]
    parts = ([rng.choice(["Hello!", "Dear applicant,", "Attention:", "", ""])] + [core]
             + rng.sample([e for e in extras if e], k=rng.randint(0, 2)))
    return {"title": title if rng.random() > 0.2 else title.upper(), "description": " ".join(p for p in parts if p), "category": cat,
            "group": f"scam:{idx % len(SCAM_CORE)}", "scam": 1, "true_category": cat,
            # a scam that moves contact or payment off the platform also breaks that policy
            "policy_types": ["off_platform"] if any(k in core for k in OFF_KEYS) else [],
            "client_payment_verified": rng.choice([False, False, None, True]) if rng.random() < 0.7 else None,
            "client_account_age_days": rng.choice([0.5, 1, 2, 3, 5, 9, None, None, 40])}


# ------------------------------------------------------------------ policy violations
def _contact_phrase(rng: random.Random) -> str:
    first = rng.choice(["john", "maria", "alex", "sam", "priya", "li", "ahmed", "olga", "tom", "nina"])
    last = rng.choice(["smith", "garcia", "lee", "patel", "kim", "brown", "novak", "silva"])
    d = lambda n: "".join(str(rng.randint(0, 9)) for _ in range(n))  # noqa: E731
    forms = [
        f"Email me directly at {first}.{last}@gmail.com so we can discuss.",
        f"Send your CV to {first}{last} [at] gmail [dot] com.",
        f"Contact me: {first} at gmail dot com",
        f"Write to {first}_{last} (at) yahoo (dot) com, not here.",
        f"Please text me at +1 ({rng.randint(201, 989)}) {rng.randint(200, 989)}-{d(4)} to talk details.",
        f"Call me on 07700 {d(6)} after 6pm.",
        f"WhatsApp me on +44 7{d(3)} {d(6)} and we will continue there.",
        f"Message me on Telegram @{first}{last}{rng.randint(1, 99)} for the details.",
        f"Let's continue on Telegram: t . me / {first}_{last}",
        f"Add me on Skype: live:{first}.{last}{rng.randint(1, 99)}",
        f"My number is {' '.join(d(10))}, text me.",
        f"Add me on Discord {first}{last}#{d(4)} to get started.",
        "I'll PayPal you directly so we both avoid the platform fees.",
        "We will pay you directly via bank transfer, outside the platform.",
        "Payment through Western Union or crypto only, not through this site.",
        f"Reach me on WhatsApp, number {rng.randint(201, 989)}-{rng.randint(200, 989)}-{d(4)}.",
        f"Contact me on my email {first}{d(2)} at outlook dot com.",
        "Let's move this conversation off the platform, my fees here are too high.",
    ]
    return rng.choice(forms)


POLICY_SENTENCES: dict[str, list[str]] = {
    "unpaid_work": [
        "Before hiring, please write a free sample article of 800 words on our topic; the best one gets the job.",
        "As a test, design three logo concepts for us. The test is unpaid, and we will pick the winner.",
        "To prove your skills, translate the attached 2,000-word document for free. Only then will we hire you.",
        "We will not pay for the trial task: build the login page of our app and we'll decide after reviewing it.",
        "Send us a complete unpaid sample: edit the first 10 minutes of our video.",
        "Do a free trial of one week of customer support on our live chat to see if you fit.",
        "First task is unpaid: enter 500 rows from the PDFs as a test of accuracy.",
        "Please do 5 product descriptions as a free test; if we like them you get the rest.",
    ],
    "academic_dishonesty": [
        "I need someone to take my online statistics exam this Saturday; it is proctored by webcam, so you will log in as me.",
        "Write my master's thesis on supply chain management, about 20,000 words, plagiarism-free so my university won't notice.",
        "Please do my homework for my accounting class every week and guarantee an A grade.",
        "Write my essay for English 101 due Friday, 2,500 words, in my writing style.",
        "Looking for someone to complete my online course quizzes and final exam for me.",
        "Take my nursing class online for the whole semester; I will give you my student portal login.",
        "Need my dissertation written from scratch; I will submit it under my name.",
        "Do my coursework and lab reports for my chemistry module, my professor must not find out.",
    ],
    "fake_reviews": [
        "We need 50 five-star reviews on our Amazon listing from different accounts.",
        "Post positive reviews on Google Maps for our restaurant, 5 per week, from real-looking profiles.",
        "Buy Trustpilot reviews: I pay $5 for every 5-star review you leave for our company.",
        "Leave fake reviews on our app in the App Store and Play Store to boost our rating.",
        "Looking for people to write 5-star reviews for our hotel on TripAdvisor without staying there.",
        "We sell reviews: get 100 positive ratings on your Fiverr gig, cheap.",
        "Need someone with many accounts to boost our rating on Yelp with positive reviews.",
        "Review exchange: I leave you a five-star rating, you leave one for me.",
    ],
    "account_rental": [
        "I want to rent your Upwork account; I will do the work and pay you 20% of earnings every month.",
        "Looking for a US resident to share their verified freelancer account with me, I will handle everything.",
        "Buying aged Upwork and Fiverr accounts with good reviews, paying well.",
        "Need someone to attend technical interviews on my behalf; you will use my name and camera off.",
        "Proxy interview needed for a Java developer role, you answer questions as me.",
        "We pay $100 per month for access to your LinkedIn account to run our outreach.",
        "Lend me your verified PayPal account to receive client payments, you keep 10%.",
        "Rent your freelancer profile to our agency; we log in from our office and do the jobs.",
    ],
}


def _policy_post(rng: random.Random, ptype: str, i: int) -> dict:
    cat = rng.choice(list(CAT))
    core = rng.choice(CAT[cat]["core"])
    title, text = _honest(rng, cat, core, short=rng.random() < 0.3)
    if ptype == "off_platform":
        viol = _contact_phrase(rng)
        group = f"policy:{ptype}:{i % 18}"
    else:
        k = rng.randrange(len(POLICY_SENTENCES[ptype]))
        viol = POLICY_SENTENCES[ptype][k]
        group = f"policy:{ptype}:{k}"
        if ptype in ("academic_dishonesty", "fake_reviews", "account_rental") and rng.random() < 0.6:
            text = ""  # these are usually whole posts, not an add-on sentence
            title = {"academic_dishonesty": rng.choice(["Take my exam", "Essay help", "Homework help needed", "Thesis writer", "Online class help"]),
                     "fake_reviews": rng.choice(["Reviews needed", "Boost our ratings", "5 star reviews", "Review writers"]),
                     "account_rental": rng.choice(["Account needed", "Rent account", "Interview help", "Partnership offer"])}[ptype]
            cat = {"academic_dishonesty": "writing", "fake_reviews": "sales_marketing", "account_rental": rng.choice(["web_mobile_software", "admin_support"])}[ptype]
    sents = [s for s in text.split(" ") if s]
    if text and rng.random() < 0.5:
        text = text + " " + viol
    elif text:
        pos = rng.randint(0, len(sents))
        text = " ".join(sents[:pos] + [viol] + sents[pos:]) if rng.random() < 0.3 else viol + " " + text
    else:
        extra = rng.choice(["Pay is good.", "Serious people only.", "Budget $200.", "Will pay well.", "", "Discreet work."])
        text = (viol + " " + extra).strip()
    types = [ptype]
    return {"title": title, "description": text, "category": cat, "group": group, "scam": 0, "policy_types": types,
            "true_category": cat, "client_payment_verified": rng.choice([True, False, None]), "client_account_age_days": rng.choice([None, 3, 30, 400])}


# ------------------------------------------------------------------ feedback
FB_POS = [
    "Great client, clear requirements and paid promptly.", "Communication was excellent and feedback was quick and constructive.",
    "Very respectful and organised. I would happily work with them again.", "Clear brief, fair budget and a pleasure to work with.",
    "Paid on time and left a kind review. Highly recommended client.", "Gave me all the files I needed on day one; smooth project.",
    "Understanding when I had a question and answered within hours.", "One of the best clients I've had on the platform.",
    "Milestones were funded up front and released as soon as I delivered.", "Friendly, professional and knows exactly what they want.",
    "Quick to approve work and generous with a bonus at the end.", "Detailed instructions and realistic deadlines.",
    "Good project, nice person, would work again.", "Polite and patient, even when the scope changed a little they adjusted the budget.",
    "Excellent experience from start to finish.", "They trusted my expertise and gave useful feedback.",
]
FB_NEG = [
    "Client changed the scope constantly and refused to pay for the extra work.", "Rude in messages and demanded work on weekends.",
    "Asked for unlimited revisions and then disputed the payment.", "Never replied for two weeks, then complained about the deadline.",
    "Requested a free sample and then used it without hiring me.", "Avoid this client. Unclear instructions and very disrespectful.",
    "Tried to move payment outside the platform and got angry when I refused.", "Left an unfair review after I delivered everything asked.",
    "Kept adding tasks that were not in the contract and threatened a bad rating.", "Terrible communication, insulting comments about my work.",
    "Cancelled the contract after I finished and asked for a refund.", "Micromanaged every minute and the budget was far too low for the work.",
    "Not a good experience. The client was unresponsive and the brief kept changing.", "Paid late and only after several reminders.",
    "Unprofessional, blamed me for their own mistakes.", "Wanted me to work for free as a 'test' for a whole week.",
]
FB_MIXED_NEG = ["The project was fine but payment was late and the client was hard to reach.",
                "Nice person, but the requirements changed every day and I was not paid for the extra work.",
                "Good idea for a project, poor communication and unrealistic expectations."]
FB_MIXED_POS = ["A few delays in getting feedback, but overall a good client who paid fairly.",
                "Requirements were a bit vague at first, but they were responsive and kind.",
                "Tight deadline, but they were clear and paid on time."]
FB_PREFIX = ["", "", "", "Honestly, ", "Overall: ", "In short, "]


def _feedback(rng: random.Random) -> list[dict]:
    out = []
    pools = [(FB_POS, 0, (4, 5)), (FB_NEG, 1, (1, 2)), (FB_MIXED_NEG, 1, (2, 3)), (FB_MIXED_POS, 0, (3, 4))]
    i = 0
    for pool, neg, (lo, hi) in pools:
        for s_idx, s in enumerate(pool):
            reps = 6 if len(pool) > 5 else 8
            for _ in range(reps):
                t = rng.choice(FB_PREFIX) + (s[0].lower() + s[1:] if rng.random() < 0.2 else s)
                if rng.random() < 0.3:
                    t += " " + rng.choice(pool)
                rating = rng.randint(lo, hi)
                if rng.random() < 0.08:  # text and stars sometimes disagree
                    rating = rng.randint(1, 5)
                out.append({"id": f"fb{i}", "text": t.strip(), "rating": rating if rng.random() < 0.85 else None,
                            "negative": neg, "group": f"fb:{neg}:{s_idx}:{len(pool)}"})
                i += 1
    return out


# ------------------------------------------------------------------ marketplace scams, second batch
#: more varied freelance-marketplace scams (hand-written for this project, appended after
#: everything else with their own RNG, so every earlier post and feedback row is unchanged).
#: (category, title, text, moves contact/payment off the platform)
MARKET_SCAMS = [
    # money up front: kits, equipment, software, certificates
    ("admin_support", "Remote transcription team", "Our transcription team is expanding. Every new member orders the foot pedal and headset bundle ($135) through our supplier before we release audio files.", False),
    ("customer_service", "Inbound sales rep, equipment provided*", "Equipment is provided *after* you cover the $180 device deposit. The deposit comes back in your third payout.", False),
    ("writing", "Article writers - premium access", "Accepted writers unlock our assignment board with a one-off $59 access pass. Writers on the board make $80+ per article.", False),
    ("design_creative", "Designers for print-on-demand shop", "To join the design pool you need our licensed font pack, $95, paid to our studio before your first brief.", False),
    ("web_mobile_software", "QA tester, device program", "Testers must purchase a pre-configured phone from our logistics partner ($220). You keep the phone and we add the cost back to your first invoice.", False),
    ("translation", "Certified translator program", "Become a certified partner: the certification exam costs $70, payable to us before we assign any paid projects.", False),
    ("admin_support", "Data clerk (paid weekly)", "Before onboarding, buy the licence for our tracking software ($45). Without it we cannot log your hours or pay you.", False),
    # fake cheque / overpayment
    ("admin_support", "Assistant for relocation", "A courier will bring you a certified cheque. Put it into your account, hold back your fee and transfer the difference to the moving company I use.", False),
    ("design_creative", "Artist for a large mural", "I overpaid the deposit by mistake when I sent the cheque. Please refund the extra amount to my assistant by bank transfer before the funds show as cleared.", False),
    ("accounting_consulting", "Bookkeeper to handle supplier payments", "Payments from our buyers will land in your personal account. Each time, withdraw the money and pass it to our suppliers via Western Union, minus your 8%.", True),
    ("customer_service", "Home office coordinator", "We mail you a check to set up your home office. Once it clears, pay our equipment provider with Zelle for the laptop and software.", True),
    ("sales_marketing", "Event promoter", "You'll receive a business cheque for the event costs. Bank it today, keep $400 for yourself and wire the balance to the venue coordinator.", False),
    # reshipping / parcel mules
    ("admin_support", "Logistics assistant from home", "Accept deliveries of phones and laptops at your address, remove the original invoices, and post the boxes abroad using the labels we email.", False),
    ("customer_service", "Returns processing agent", "Collect customer returns at your apartment, relabel them and drop them at the post office every morning. $25 per box.", False),
    # chat-app "hiring manager"
    ("customer_service", "Remote chat agent, start this week", "Our recruiting manager screens candidates on WhatsApp only. Send a message with the word APPLY to start your text interview.", True),
    ("admin_support", "Executive assistant (remote)", "Please reach our HR coordinator on Telegram, username @kate_talent_desk. The interview is a short typed Q&A, no calls.", True),
    ("data_science_analytics", "Data reviewer, flexible", "Interviews happen through Telegram chat. The platform messaging is unreliable, so do not reply here; write to the recruiter there.", True),
    ("web_mobile_software", "Junior developer, instant offer", "Our talent lead will send you a job offer after a quick chat on Signal. Share your phone number in your proposal so she can add you.", True),
    ("writing", "Proofreader, interview by chat", "Interview is by text on Skype with our hiring officer. Have your ID ready; the offer letter is sent during the chat.", True),
    # crypto / task / order-boosting schemes
    ("sales_marketing", "Social media engagement tasks", "Like posts and follow accounts for our clients and collect a commission per task. Each new task package needs a USDT top-up, returned with profit.", False),
    ("admin_support", "Online order merchant assistant", "Process 30 merchant orders per day to raise their ranking. When a combination order appears, recharge your balance to finish it and unlock the bonus.", False),
    ("data_science_analytics", "Crypto market analyst (no experience)", "No background needed. Fund your trading wallet with $150 and follow our signals; analysts make 25% a day.", False),
    ("customer_service", "Hotel review booster", "Give five stars to hotels in our app and earn per review. VIP levels unlock after you deposit to your member account.", False),
    ("sales_marketing", "Video liker, paid per like", "Get $2 for each YouTube video you like. To withdraw you must first buy a membership level with cryptocurrency.", False),
    # gift cards
    ("admin_support", "Errands assistant for a doctor", "I'm in surgery all day. Please pick up Apple gift cards for my patients, scratch the backs and send me clear pictures of the codes.", False),
    ("customer_service", "Rewards coordinator", "You will buy prepaid cards for our customer rewards programme and text us the card codes; we reimburse you on Friday.", False),
    # phishing links / credentials
    ("web_mobile_software", "App developer - onboarding portal", "Selected candidates must sign in to our onboarding portal with their freelancer account email and password so we can link the contract.", False),
    ("design_creative", "Illustrator - confirm your spot", "Your application passed. Open the secure link tinyurl.com/hire-art-portal and enter your card details to confirm your spot.", False),
    ("writing", "Blog writer - verification step", "To verify you are a real person, log in at our partner page with your PayPal email and password. Then you get the first topic.", False),
    ("admin_support", "Virtual assistant - apply externally", "Do not apply on this site. Fill in the application at cutt.ly/va-hiring and include your online banking username for payroll.", True),
    # bank / identity details up front
    ("admin_support", "Payroll clerk", "Before the interview send a photo of your driver's licence, both sides, plus your bank routing and account numbers for direct deposit.", False),
    ("customer_service", "Remote support agent (hired!)", "You are hired. Reply with your social security number and mother's maiden name so HR can open your employee file.", False),
    ("translation", "Translator - tax forms first", "We need a copy of your passport and your full card number for the tax form before we can send the first document.", False),
    # easy money / too good to be true
    ("admin_support", "Typist - $45 per page", "Type short pages from home and make $45 each. Anyone can do it, no skills, paid every single day.", False),
    ("sales_marketing", "Work 1 hour a day, earn $6,000/month", "Our system makes $6,000 a month for you with one hour of work a day. Spots close tonight.", False),
    # short ones
    ("admin_support", "Assistant needed", "Deposit the check I send, keep $300 and Zelle the rest to my supplier.", True),
    ("customer_service", "Chat job", "Hiring manager on Telegram @joblink_hr. Text interview only.", True),
    ("design_creative", "Designers wanted", "Pay $40 for the design software licence to start paid work.", False),
    ("writing", "Writers, quick start", "Send $25 registration to get your first paid article.", False),
    ("data_science_analytics", "Task earner", "Top up 100 USDT to unlock daily paid tasks.", False),
    ("admin_support", "Parcel helper", "Receive packages at home and reship them abroad. Paid per parcel.", False),
    ("customer_service", "Quick hire", "Send your bank login and ID copy to get hired today.", False),
    ("sales_marketing", "Gift card buyer", "Buy $500 in gift cards, send me the codes, get reimbursed plus $100.", False),
    ("web_mobile_software", "Tester, verify account", "Log in with your marketplace password at our portal to verify your account.", False),
]


def _market_scams() -> list[dict]:
    rng = random.Random(SEED + 11)
    out = []
    openers = ["", "", "Hello applicants,", "Good day!", "Immediate openings.", "Dear freelancer,"]
    closers = ["", "", "Spots are limited.", "Fully remote.", "Apply with your name and country.", "Pay is excellent.",
               "Serious candidates only."]
    for k, (cat, title, text, off) in enumerate(MARKET_SCAMS):
        short = len(title) + len(text) < 120
        for v in range(1 if short else 3):
            parts = [text] if short else [rng.choice(openers), text, rng.choice(closers)]
            out.append({"title": title if v != 2 else title.lower().capitalize(), "description": " ".join(p for p in parts if p),
                        "category": rng.choice([cat, cat, "admin_support", "customer_service"]),
                        # a scam has no real category: kept out of the category model (scam and policy models only)
                        "true_category": None,
                        "group": f"mscam:{k}", "scam": 1, "policy_types": ["off_platform"] if off else [],
                        "client_payment_verified": rng.choice([False, None, True]), "client_account_age_days": rng.choice([None, 1, 4, 12])})
    return out


# ------------------------------------------------------------------ feedback, second batch
#: freelancer-about-client complaints in more varied wording (appended with their own RNG)
FB_NEG_MORE = [
    "Three weeks after delivery I am still waiting for the money.", "The milestone was never released even though the work was approved.",
    "They stopped answering as soon as the files were delivered. Still unpaid.", "Ghosted me halfway through the project.",
    "Every call added new features, but the price stayed the same.", "What started as one landing page turned into a full website for the same budget.",
    "Wanted twelve rounds of changes and refused to pay for any of them.", "Expected revisions for free long after the project was closed.",
    "Asked for a free trial design, kept it, and hired someone else.", "Pushed me to do extra pages at no cost, saying it was 'part of the deal'.",
    "Opened a dispute the day before payment was due and claimed the work was not done.", "Filed a chargeback after using my work for months.",
    "Shouted at me on a video call and called my work garbage.", "Condescending and aggressive in every message.",
    "Sent messages at 3am and got angry when I did not answer immediately.", "Threatened to leave one star unless I worked the weekend for free.",
    "Disappeared for a month, then demanded everything within 24 hours.", "Could not make a decision and blamed me for the delays.",
    "Paid only half and stopped replying.", "Payment came six weeks late and only after I contacted support.",
    "Lied about the scope to get a lower price.", "Disrespectful, unprofessional and never satisfied.",
    "Would not recommend. Slow to pay and rude.", "Worst client I've had: no brief, no feedback, no payment.",
    "Tried to get the work for free by saying it was a test.", "Ended the contract right after I delivered so they would not have to pay.",
    "Kept asking for 'small tweaks' for weeks without paying for the hours.", "Ignored my invoices and then said the budget was gone.",
    "Very demanding and rude to everyone on the team.", "Insulted my English and refused to pay the last milestone.",
]
#: mixed but positive overall: slow or picky, yet paid and fair (label 0)
FB_POS_MIXED_MORE = [
    "Took a while to answer sometimes, but paid in full and on time.", "Quite picky about details, but fair and paid promptly.",
    "The brief changed once, and they added budget for it. Good client.", "Busy schedule so replies were slow, but always polite.",
    "A bit of back and forth on the design, but a fair and friendly client.", "Needed some reminders for feedback; payment was quick though.",
    "Extra requests came up, and they paid for each of them.", "Not the fastest to respond, but clear and respectful.",
]
#: neutral text: the stars decide (1-2 stars -> negative, 4-5 -> not; 3 stars left out)
FB_NEUTRAL = ["Project finished.", "Contract closed.", "Work delivered.", "It was a job.", "Done.", "Completed the task as requested.",
              "Logo delivered, contract ended.", "Article written and submitted.", "No comment.", "Small fix, delivered."]


def _feedback_more() -> list[dict]:
    rng = random.Random(SEED + 12)
    out = []
    for pool, neg, (lo, hi), tag in ((FB_NEG_MORE, 1, (1, 2), "neg2"), (FB_POS_MIXED_MORE, 0, (3, 5), "posmix2")):
        for s_idx, s in enumerate(pool):
            for _ in range(3):
                t = rng.choice(FB_PREFIX) + (s[0].lower() + s[1:] if rng.random() < 0.2 else s)
                rating = rng.randint(lo, hi)
                if neg and rng.random() < 0.2:
                    rating = 3
                out.append({"text": t.strip(), "rating": rating if rng.random() < 0.85 else None, "negative": neg,
                            "group": f"fb:{tag}:{s_idx}"})
    for s_idx, s in enumerate(FB_NEUTRAL):
        for rating in (1, 2, 4, 5):
            out.append({"text": s, "rating": rating, "negative": int(rating <= 2), "group": f"fb:neutral:{s_idx}"})
    return out


# ------------------------------------------------------------------ self-ads (not_a_job), second batch
#: freelancers advertising themselves in the jobs section, more varied wording (own RNG, appended last)
SELF_AD_MORE = [
    "Brand designer with a decade in packaging and logos. I take on two new clients a month - message me for my rates.",
    "Need a website? I'm a front-end developer who builds fast, clean sites. Send me your project details and I'll quote.",
    "I'm offering my services as a bookkeeper: reconciliations, payroll and VAT. Contact me to book a free consultation.",
    "Motion designer for hire. I animate explainer videos and logo reveals. See my reel on my profile.",
    "Native German speaker offering translation and proofreading. I'd love to help with your next document.",
    "I am a virtual assistant with strong Excel skills, open to new clients from today. Invite me to your job.",
    "Hello! I'm a UX/UI designer. I design apps and dashboards in Figma. Interested? Let's talk.",
    "Experienced ghostwriter taking on new books and blogs. Send me a message with your idea.",
    "Offering affordable logo and flyer design. Quick turnaround, unlimited changes. Contact me now.",
    "I'm a certified project manager available for remote contracts, Agile and Scrum.",
    "I edit podcasts and YouTube videos. Looking for clients who need weekly editing.",
    "Full-time freelancer ready for your Shopify, WooCommerce or Wix project. My prices are low and quality high.",
    "Accountant available for small businesses. I do tax returns and bookkeeping. Hire me today.",
    "Hi, my name is Tom and I'm looking for remote work as a customer support agent. I have a quiet home office.",
    "Professional photographer and retoucher offering product photo editing. Invite me to your project.",
    "I am a Python developer seeking freelance work: scraping, automation, APIs. Available immediately.",
    "Experienced SEO consultant offering audits and link building packages. Contact me for a proposal.",
    "Illustrator open for commissions: book covers, character design, stickers. DM for prices.",
    "I'm a data analyst and I can build your Power BI dashboards. Check my profile reviews and hire me.",
    "Lawyer available for contract reviews and company formation. Flat fees, quick replies.",
    "Network engineer offering remote setup of routers, firewalls and VPNs. Book me for your project.",
    "I can type 80 words per minute and I'm looking for any data entry work. Please consider me.",
    "Translator English to Portuguese available for websites, apps and subtitles. Let's work together.",
    "Social media expert here: I will manage your Instagram and TikTok. Message me to get started.",
    "Architect offering 3D renders and floor plans at competitive rates. Available for new projects this month.",
    "Hi, I'm a copywriter who writes landing pages that convert. I'm accepting new clients now.",
    "Mobile developer with 6 years in Swift and Kotlin is open to work. Send me an invitation.",
    "Seasoned customer service rep offering email and chat support services for your store.",
    "I'm a marketing student offering cheap social media posts to build my portfolio. Hire me!",
    "CAD technician offering SolidWorks modelling services. Reach out through my profile.",
]
SELF_AD_TITLES_MORE = ["Available for work", "Freelance designer for hire", "Offering my services", "Developer available",
                       "Your next virtual assistant", "Hire an expert", "New clients welcome", "Services", "Open for commissions",
                       "Looking for projects"]


def _self_ads_more() -> list[dict]:
    rng = random.Random(SEED + 13)
    out = []
    for k, core in enumerate(SELF_AD_MORE):
        for _ in range(3):
            extra = rng.sample(["Fast replies.", "Fair prices.", "Portfolio on request.", "Thanks for reading.", "", ""], k=rng.randint(0, 2))
            out.append({"title": rng.choice(SELF_AD_TITLES_MORE), "description": " ".join([core, *extra]).strip(),
                        "category": rng.choice(list(CAT)), "true_category": "not_a_job", "group": f"naj2:{k}", "scam": 0,
                        "policy_types": [], "client_payment_verified": None, "client_account_age_days": rng.choice([None, 2, 30])})
    return out


def main() -> None:
    rng = random.Random(SEED)
    posts: list[dict] = []
    for cat, pool in CAT.items():
        for ci, core in enumerate(pool["core"]):
            for _ in range(3):
                short = rng.random() < 0.3
                title, text = _honest(rng, cat, core, short)
                posts.append({"title": title, "description": text, "category": cat, "true_category": cat, "group": f"{cat}:{ci}",
                              "scam": 0, "policy_types": [],
                              "client_payment_verified": rng.choice([True, True, False, None]),
                              "client_account_age_days": rng.choice([None, 2, 20, 90, 365, 1200])})
    for ci, core in enumerate(SELF_AD_CORE):
        for _ in range(3):
            extra = rng.sample(SELF_AD_EXTRA, k=rng.randint(0, 2))
            posts.append({"title": rng.choice(SELF_AD_TITLES), "description": " ".join([core, *extra]).strip(),
                          "category": rng.choice(list(CAT)), "true_category": "not_a_job", "group": f"naj:{ci}",
                          "scam": 0, "policy_types": [], "client_payment_verified": None,
                          "client_account_age_days": rng.choice([None, 1, 10])})
    for i in range(len(SCAM_CORE) * 7):
        posts.append(_scam(rng, i))
    for ptype in ("off_platform", "unpaid_work", "academic_dishonesty", "fake_reviews", "account_rental"):
        n = 90 if ptype == "off_platform" else 40
        for i in range(n):
            posts.append(_policy_post(rng, ptype, i))
    # appended last and without the RNG, so every earlier post (and the feedback) is unchanged
    for cat, items in SHORT_HONEST_TRAIN.items():
        for k, (title, text) in enumerate(items):
            posts.append({"title": title, "description": text, "category": cat, "true_category": cat,
                          "group": f"short:{cat}:{k}", "scam": 0, "policy_types": [], "client_payment_verified": None,
                          "client_account_age_days": None})
    for k, (cat, title, text) in enumerate(SHORT_SCAMS):
        posts.append({"title": title, "description": text, "category": cat, "true_category": cat, "group": f"shortscam:{k}",
                      "scam": 1, "policy_types": ["off_platform"] if any(key in text for key in OFF_KEYS) else [],
                      "client_payment_verified": None, "client_account_age_days": None})
    for i, p in enumerate(posts):
        p["id"] = f"seed{i:04d}"
    with open(HERE / "marketplace_posts.jsonl", "w", encoding="utf-8") as f:
        for p in posts:
            f.write(json.dumps({k: p[k] for k in ("id", "title", "description", "category", "true_category", "scam", "policy_types",
                                                  "client_payment_verified", "client_account_age_days", "group")}) + "\n")
    fb = _feedback(rng)
    # second batches: own RNGs, appended last, so every earlier row is unchanged
    start = len(posts)
    for i, p in enumerate(_market_scams() + _self_ads_more()):
        p["id"] = f"seed{start + i:04d}"
        posts.append(p)
    with open(HERE / "marketplace_posts.jsonl", "w", encoding="utf-8") as f:
        for p in posts:
            f.write(json.dumps({k: p[k] for k in ("id", "title", "description", "category", "true_category", "scam", "policy_types",
                                                  "client_payment_verified", "client_account_age_days", "group")}) + "\n")
    for i, r in enumerate(_feedback_more()):
        fb.append({"id": f"fb{len(fb)}", **r})
    with open(HERE / "client_feedback.jsonl", "w", encoding="utf-8") as f:
        for r in fb:
            f.write(json.dumps(r) + "\n")
    print(f"{len(posts)} posts, {len(fb)} feedback rows")


if __name__ == "__main__":
    main()
