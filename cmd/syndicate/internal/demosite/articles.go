package demosite

// The sample site's articles. The text is written for this demo; it is
// shaped like the real site's content types (news citing a source, a
// statement, a newsletter with a PDF, a video, a weekly digest).

// Article is one post of the sample site.
type Article struct {
	// Slug is the path of the article under its edition.
	Slug string
	// HoursAgo is how long before the demo's start it was published.
	HoursAgo   int
	Title      string
	Author     string
	Categories []string
	// Body is the article's HTML (content:encoded).
	Body string
	// Image is the featured image file name; how the feed carries it is
	// set by ImageIn.
	Image string
	// ImageIn is "media" (media:content), "content" (an <img> in the
	// body) or "page" (only as og:image on the article page, as WordPress
	// does by default).
	ImageIn string
	// PDF is the file name of an attached newsletter PDF.
	PDF string
	// Video is a YouTube video id embedded in the body.
	Video string
}

// Edition is one language section of the site with its own feed.
type Edition struct {
	// Path is the URL prefix of the edition ("" for English).
	Path     string
	Lang     string
	Title    string
	Articles []Article
}

// Editions returns the sample site's editions, newest article first in each.
func Editions() []Edition {
	return []Edition{
		{
			Path: "", Lang: "en", Title: "Freedom Voice",
			Articles: []Article{
				{
					Slug: "newsletter-issue-142", HoursAgo: 2,
					Title: "Newsletter No. 142 — November 2026", Author: "Editorial Board",
					Categories: []string{"Newsletter", "Publications"},
					Body: `<p>The November issue of our newsletter is out. In this issue:</p>
<ul><li>Workers' strikes spread to three more cities</li><li>Interview: teachers on the new curriculum</li><li>Letters from readers &amp; our answers</li></ul>
<p><a href="/wp-content/uploads/2026/11/newsletter-142.pdf">To view the PDF file click here</a></p>`,
					Image: "newsletter.png", ImageIn: "content", PDF: "newsletter-142.pdf",
				},
				{
					Slug: "rally-video", HoursAgo: 5,
					Title: "Video: thousands rally for the release of detained journalists", Author: "Media Desk",
					Categories: []string{"Videos", "Press freedom"},
					Body: `<p>Thousands gathered on Saturday in front of the courthouse to demand the release of the 12 journalists detained since March.</p>
<figure><iframe width="560" height="315" src="https://www.youtube-nocookie.com/embed/dQw4w9WgXcQ?rel=0&#038;feature=oembed" allowfullscreen></iframe></figure>
<p>Speakers called on the authorities to drop all charges.</p>`,
					Video: "dQw4w9WgXcQ", Image: "rally.png", ImageIn: "media",
				},
				{
					Slug: "statement-on-internet-shutdown", HoursAgo: 9,
					Title: "Statement on the nationwide internet shutdown & the arrests that followed", Author: "Freedom Voice",
					Categories: []string{"Statements", "Human rights and civil liberties in the region"},
					Body: `<p>For the third day running, the internet has been cut across the country. Hospitals, schools and families have been left without a way to reach each other.</p>
<p>We call on the authorities to restore access immediately and to release everyone detained for speaking out. <strong>Access to information is a right, not a privilege.</strong></p>
<script>trackVisit();</script>
<p>Source: Freedom Voice press office</p>`,
					Image: "shutdown.png", ImageIn: "page",
				},
			},
		},
		{
			Path: "/ar", Lang: "ar", Title: "صوت الحرية",
			Articles: []Article{
				{
					Slug: "teachers-strike", HoursAgo: 3,
					Title: "إضراب المعلمين يدخل يومه الخامس في 14 مدينة", Author: "هيئة التحرير",
					Categories: []string{"أخبار", "حقوق العمال"},
					Body: `<p>دخل إضراب المعلمين يومه الخامس، وشارك فيه أكثر من 20000 معلم في 14 مدينة، بحسب نقابة المعلمين.</p>
<p>وطالب المضربون برفع الأجور وإطلاق سراح زملائهم المعتقلين. وقال متحدث باسم النقابة لوكالة Reuters إن الإضراب سيستمر.</p>
<p>المصدر: وكالات</p>`,
					Image: "teachers.png", ImageIn: "content",
				},
				{
					Slug: "weekly-digest-47", HoursAgo: 30,
					Title: "الموجز الأسبوعي: أبرز أخبار الأسبوع", Author: "هيئة التحرير",
					Categories: []string{"الموجز"},
					Body: `<p>++ الإفراج عن ثلاثة صحفيين بعد احتجاز دام شهرين.</p>
<p>++ منظمة العفو الدولية تدعو إلى تحقيق مستقل.</p>
<p>++ تظاهرات في العاصمة ضد ارتفاع الأسعار بنسبة 40%.</p>`,
					Image: "digest.png", ImageIn: "page",
				},
			},
		},
		{
			Path: "/fa", Lang: "fa", Title: "صدای آزادی",
			Articles: []Article{
				{
					Slug: "women-rights-letter", HoursAgo: 4,
					Title: "نامه‌ی ۳۰۰ فعال حقوق زنان به سازمان ملل", Author: "تحریریه",
					Categories: []string{"حقوق زنان", "نامه‌ها و بیانیه‌ها"},
					Body: `<p>بیش از ۳۰۰ فعال حقوق زنان در نامه‌ای به دبیرکل سازمان ملل خواستار توجه فوری به وضعیت زنان زندانی شدند.</p>
<p>در این نامه آمده است: «ما از جامعه‌ی جهانی می‌خواهیم سکوت نکند.» متن کامل نامه در وب‌سایت UN Watch منتشر شده است.</p>`,
					Image: "letter.png", ImageIn: "media",
				},
			},
		},
		{
			Path: "/sq", Lang: "sq", Title: "Zëri i Lirisë",
			Articles: []Article{
				{
					Slug: "protesta-ne-tirane", HoursAgo: 6,
					Title: "Protesta në Tiranë për liri të shtypit", Author: "Redaksia",
					Categories: []string{"Lajme", "Liria e shtypit"},
					Body: `<p>Qindra gazetarë dhe qytetarë u mblodhën të shtunën para Kryeministrisë, duke kërkuar mbrojtje më të mirë për mediat e pavarura.</p>
<p>Organizatorët thanë se protesta do të përsëritet çdo javë derisa të plotësohen kërkesat.</p>`,
					Image: "protest.png", ImageIn: "content",
				},
			},
		},
	}
}
