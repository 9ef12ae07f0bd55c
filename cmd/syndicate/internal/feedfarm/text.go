package feedfarm

// The farm's text, written for it: short news sentences in the four
// languages of the site's editions, from which paragraphs, titles and
// excerpts are assembled.

// edition is one language section of the farm's site.
type edition struct {
	// path is the URL prefix of the edition ("" for English).
	path      string
	lang      string
	site      string
	sentences []string
	titles    []string
	// categories go into CDATA sections and the channel title as they
	// are, so they hold no markup characters.
	categories []string
	authors    []string
	// source ends an article, as reports citing another outlet do.
	source string
}

// newEditions returns the farm's editions: English, Arabic, Farsi and
// Albanian, as on the site.
func newEditions() []edition {
	return []edition{
		{
			path: "", lang: "en-US", site: "Freedom Voice",
			sentences: []string{
				"Families of the detained gathered outside the provincial court on Tuesday morning, holding photographs of their relatives.",
				"The ministry has not answered repeated requests for comment since the arrests began in early spring.",
				"Teachers in at least eleven cities stayed away from their classrooms, saying their wages no longer cover the rent.",
				"Independent monitors counted more than two hundred people taken into custody over the weekend.",
				"A statement signed by forty organisations called for the release of every journalist held without charge.",
				"Nurses at the central hospital said that sixteen-hour shifts had become the rule rather than the exception.",
				"The price of bread has risen for the fourth time this year, and queues now form before dawn.",
				"Lawyers for the defendants said they were given less than an hour to read a file of several hundred pages.",
				"Students marched from the university gates to the city square, chanting for free speech and fair exams.",
				"Residents of the eastern districts reported that mobile internet had been cut for the third night running.",
				"Our correspondent spoke to workers at the steel plant, who described months of unpaid overtime.",
				"Human rights groups warned that the new law would let the authorities close any newspaper at will.",
			},
			titles: []string{
				"Teachers' strike spreads to eleven cities as wages fall behind rents",
				"Families demand news of relatives detained since the spring",
				"Forty organisations call for the release of jailed journalists",
				"Bread prices rise for the fourth time this year",
				"Nurses describe sixteen-hour shifts at the central hospital",
				"Mobile internet cut in the eastern districts for a third night",
				"Students march for free speech from the university to the square",
				"New press law would let the authorities close any newspaper",
				"Steel workers speak of months of unpaid overtime",
				"Lawyers given an hour to read a file of several hundred pages",
			},
			categories: []string{"News", "Statements", "Human rights and civil liberties in the region", "Workers", "Press freedom", "Women", "Economy", "Students"},
			authors:    []string{"Editorial Board", "News Desk", "Media Desk", "Our correspondent"},
			source:     "Source: Freedom Voice press office",
		},
		{
			path: "/ar", lang: "ar", site: "صوت الحرية",
			sentences: []string{
				"تجمّعت عائلات المعتقلين صباح الثلاثاء أمام المحكمة الإقليمية وهي تحمل صور ذويها.",
				"لم تردّ الوزارة على طلبات متكررة للتعليق منذ بدء الاعتقالات في أوائل الربيع.",
				"امتنع المعلمون في إحدى عشرة مدينة على الأقل عن الحضور إلى الصفوف، قائلين إن رواتبهم لم تعد تكفي لدفع الإيجار.",
				"أحصى مراقبون مستقلون أكثر من مئتي شخص اعتُقلوا خلال عطلة نهاية الأسبوع.",
				"دعا بيان وقّعته أربعون منظمة إلى الإفراج عن جميع الصحفيين المحتجزين دون تهمة.",
				"قالت ممرضات في المستشفى المركزي إن نوبات العمل الممتدة ست عشرة ساعة أصبحت القاعدة لا الاستثناء.",
				"ارتفع سعر الخبز للمرة الرابعة هذا العام، وباتت الطوابير تتشكل قبل الفجر.",
				"قال محامو المتهمين إنهم مُنحوا أقل من ساعة لقراءة ملف من مئات الصفحات.",
				"سار الطلاب من بوابات الجامعة إلى ساحة المدينة مرددين هتافات تطالب بحرية التعبير.",
				"أفاد سكان الأحياء الشرقية بأن الإنترنت عبر الهاتف المحمول قُطع لليلة الثالثة على التوالي.",
			},
			titles: []string{
				"إضراب المعلمين يمتد إلى إحدى عشرة مدينة",
				"عائلات المعتقلين تطالب بمعرفة مصير ذويها",
				"أربعون منظمة تدعو إلى الإفراج عن الصحفيين المحتجزين",
				"سعر الخبز يرتفع للمرة الرابعة هذا العام",
				"ممرضات يروين نوبات عمل من ست عشرة ساعة",
				"قطع الإنترنت في الأحياء الشرقية لليلة الثالثة",
				"الطلاب يسيرون من الجامعة إلى الساحة دفاعاً عن حرية التعبير",
				"قانون الصحافة الجديد يتيح إغلاق أي صحيفة",
			},
			categories: []string{"أخبار", "بيانات", "حقوق الإنسان والحريات المدنية في المنطقة", "العمال", "حرية الصحافة", "المرأة", "الاقتصاد"},
			authors:    []string{"هيئة التحرير", "قسم الأخبار", "مراسلنا"},
			source:     "المصدر: المكتب الصحفي لصوت الحرية",
		},
		{
			path: "/fa", lang: "fa-IR", site: "صدای آزادی",
			sentences: []string{
				"خانواده‌های بازداشت‌شدگان صبح سه‌شنبه با عکس عزیزانشان در دست مقابل دادگاه استان جمع شدند.",
				"وزارتخانه از آغاز بازداشت‌ها در اوایل بهار به درخواست‌های مکرر برای اظهار نظر پاسخی نداده است.",
				"معلمان دست‌کم در یازده شهر سر کلاس حاضر نشدند و گفتند حقوقشان دیگر کفاف اجاره خانه را نمی‌دهد.",
				"ناظران مستقل بیش از دویست نفر را شمردند که در آخر هفته بازداشت شدند.",
				"بیانیه‌ای با امضای چهل سازمان خواستار آزادی همه روزنامه‌نگارانی شد که بدون اتهام در بازداشت‌اند.",
				"پرستاران بیمارستان مرکزی گفتند شیفت‌های شانزده ساعته دیگر قاعده شده است نه استثنا.",
				"قیمت نان برای چهارمین بار در سال جاری بالا رفته و صف‌ها پیش از طلوع آفتاب تشکیل می‌شود.",
				"وکلای متهمان گفتند کمتر از یک ساعت برای خواندن پرونده‌ای چندصد صفحه‌ای فرصت داشتند.",
				"دانشجویان از درِ دانشگاه تا میدان شهر راهپیمایی کردند و برای آزادی بیان شعار دادند.",
				"ساکنان محله‌های شرقی گزارش دادند که اینترنت همراه برای سومین شب پیاپی قطع شده است.",
			},
			titles: []string{
				"اعتصاب معلمان به یازده شهر رسید",
				"خانواده‌ها خواستار خبر از بازداشت‌شدگان بهار شدند",
				"چهل سازمان خواستار آزادی روزنامه‌نگاران زندانی شدند",
				"قیمت نان برای چهارمین بار امسال بالا رفت",
				"پرستاران از شیفت‌های شانزده ساعته می‌گویند",
				"قطع اینترنت همراه در محله‌های شرقی برای سومین شب",
				"راهپیمایی دانشجویان برای آزادی بیان",
				"قانون تازه مطبوعات راه بستن هر روزنامه‌ای را باز می‌کند",
			},
			categories: []string{"اخبار", "بیانیه‌ها", "حقوق بشر و آزادی‌های مدنی در منطقه", "کارگران", "آزادی مطبوعات", "زنان", "اقتصاد"},
			authors:    []string{"هیئت تحریریه", "میز خبر", "خبرنگار ما"},
			source:     "منبع: دفتر مطبوعاتی صدای آزادی",
		},
		{
			path: "/sq", lang: "sq", site: "Zëri i Lirisë",
			sentences: []string{
				"Familjet e të arrestuarve u mblodhën të martën në mëngjes para gjykatës së qarkut, me fotografi të të afërmve në duar.",
				"Ministria nuk u është përgjigjur kërkesave të përsëritura për koment që nga fillimi i arrestimeve në pranverë.",
				"Mësuesit në të paktën njëmbëdhjetë qytete nuk hynë në klasë, duke thënë se pagat nuk mbulojnë më qiranë.",
				"Vëzhguesit e pavarur numëruan më shumë se dyqind persona të ndaluar gjatë fundjavës.",
				"Një deklaratë e nënshkruar nga dyzet organizata kërkoi lirimin e çdo gazetari të mbajtur pa akuzë.",
				"Infermieret në spitalin qendror thanë se turnet gjashtëmbëdhjetë orëshe janë bërë rregull dhe jo përjashtim.",
				"Çmimi i bukës është rritur për të katërtën herë këtë vit dhe radhët formohen para agimit.",
				"Avokatët e të pandehurve thanë se patën më pak se një orë për të lexuar një dosje me qindra faqe.",
				"Studentët marshuan nga porta e universitetit deri në sheshin e qytetit, duke brohoritur për lirinë e fjalës.",
				"Banorët e lagjeve lindore raportuan se interneti celular ishte ndërprerë për të tretën natë radhazi.",
			},
			titles: []string{
				"Greva e mësuesve përhapet në njëmbëdhjetë qytete",
				"Familjet kërkojnë lajme për të afërmit e ndaluar që nga pranvera",
				"Dyzet organizata kërkojnë lirimin e gazetarëve të burgosur",
				"Çmimi i bukës rritet për të katërtën herë këtë vit",
				"Infermieret flasin për turne gjashtëmbëdhjetë orëshe",
				"Interneti celular ndërpritet për të tretën natë në lagjet lindore",
				"Studentët marshojnë për lirinë e fjalës",
				"Ligji i ri i shtypit lejon mbylljen e çdo gazete",
			},
			categories: []string{"Lajme", "Deklarata", "Të drejtat e njeriut dhe liritë civile në rajon", "Punëtorët", "Liria e shtypit", "Gratë", "Ekonomia"},
			authors:    []string{"Redaksia", "Desku i lajmeve", "Korrespondenti ynë"},
			source:     "Burimi: zyra e shtypit e Zërit të Lirisë",
		},
	}
}
