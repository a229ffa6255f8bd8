"""Texts for the small random-weight test models (tests/reference/make_test_models.py).

TEXTS: what the reference vectors are computed on, each there for a reason
(see the comments). CORPUS: the multilingual lines the tokenizers (the
SentencePiece Unigram one, the WordPiece ones) are trained on. Not meant to be good
language, only varied: Chinese (customer feedback, like the seed pipeline's
texts), Japanese, Korean, Cyrillic, Arabic, Greek, Hebrew, Latin scripts with accents,
English, digits, punctuation and a few emoji. Devanagari, Thai and most emoji
are deliberately absent, so those texts exercise <unk>.
"""

# Over-long texts: more tokens than any model's max_seq_length (and than 128,
# the seed stand-in's), so truncation is exercised.
LONG_ZH = "".join(
    "客户反映快递三天还没有发货，客服电话一直打不通，希望尽快处理退款。"
    for _ in range(12)
)
LONG_MIXED = " ".join(
    "The parcel arrived late, el paquete llegó tarde, посылка пришла поздно, 包裹迟到了。"
    for _ in range(15)
)

TEXTS = [
    "客户投诉物流太慢",                                  # short Chinese, like the seed's texts
    "这个产品质量很好",                                  # short Chinese, positive
    "退款什么时候到账？",                                # full-width question mark (NFKC folds it)
    "快递员态度很差，包装也破了，我要退货！",              # Chinese with full-width punctuation
    "東京は日本の首都です。",                            # Japanese (kanji + kana)
    "この商品はとても使いやすいです",                    # Japanese, hiragana-heavy
    "Привет, как дела?",                                 # Cyrillic
    "Доставка задержалась на неделю.",                  # Cyrillic, longer
    "مرحبا بالعالم",                                     # Arabic (right to left)
    "الطلب لم يصل بعد",                                  # Arabic, customer-like
    "Café naïve façade – “quotes” and accents",          # accents, typographic quotes
    "Ça coûte très cher, señor Müller!",                # French/Spanish/German diacritics
    "订单 #12345 was shipped to Москва via 東京",        # mixed scripts and digits in one text
    "I love pizza 🍕🍕 and sushi 🍣! 👨‍👩‍👧‍👦",                # emoji, ZWJ family sequence
    "नमस्ते दुनिया",                                      # Devanagari: not in the vocab, <unk>
    "!!! ... ??? ;;; --- ***",                           # punctuation only
    "   leading and trailing whitespace\t\n ",           # leading/trailing whitespace
    "",                                                  # the empty string
    LONG_ZH,                                             # long Chinese: truncated
    LONG_MIXED,                                          # long mixed scripts: truncated
    "ｆｕｌｌ－ｗｉｄｔｈ ＡＢＣ １２３",                   # full-width Latin/digits (NFKC folds them)
    "快递  三天\t没有发货\n\n请尽快　处理  thanks",          # runs of inner whitespace (see make_test_models.py)
]


_ZH = [
    "客户投诉物流太慢", "这个产品质量很好", "退款什么时候到账？", "快递员态度很差，包装也破了。",
    "我想退货，请问流程是什么？", "商品和描述不一致，颜色不对。", "客服回复很快，解决了我的问题。",
    "发货速度很快，第二天就收到了。", "价格有点贵，但是质量不错。", "衣服尺码偏小，建议买大一号。",
    "手机屏幕有划痕，要求换货。", "物流信息三天没有更新了。", "这家店的服务非常好，下次还会再来。",
    "订单显示已签收，但是我没有收到包裹。", "退款已经申请一周了还没有到账。", "产品用了两天就坏了，非常失望。",
    "包装很精美，送人很合适。", "电池续航时间太短，一天要充两次电。", "耳机音质很好，降噪效果也不错。",
    "请问可以开发票吗？", "优惠券为什么不能使用？", "客服电话一直打不通。", "快递放在门口被人拿走了。",
    "希望尽快处理，谢谢！", "今天天气很好，我们去公园散步吧。", "北京是中国的首都。",
    "我们公司主要做电子商务和物流服务。", "请在下单前确认收货地址。", "会员积分可以兑换礼品。",
    "新款手机下个月上市。", "这本书的内容很有意思。", "他每天早上六点起床跑步。",
    "周末超市人很多，排队要半个小时。", "网上购物越来越方便了。", "质量问题可以七天无理由退换。",
    "客户反映快递三天还没有发货。", "售后服务态度差，问题一直没解决。", "味道很好吃，分量也足。",
    "水果到的时候已经烂了好几个。", "安装师傅很专业，半小时就装好了。", "系统升级以后应用经常闪退。",
    "账号被盗了，怎么找回密码？", "支付失败，但是钱已经扣了。", "物流太慢了，等了两个星期。",
    "这个价格性价比很高，推荐购买。", "颜色比图片上的深一点。", "客服小姐姐很耐心，点赞！",
    "上海、广州和深圳都有仓库。", "我对这次购物体验非常满意。", "数量不对，少发了一件。",
]

_JA = [
    "東京は日本の首都です。", "この商品はとても使いやすいです", "配送が遅れて申し訳ございません。",
    "注文した商品がまだ届いていません。", "返品の手続きを教えてください。", "今日はとても暑いですね。",
    "私は毎朝コーヒーを飲みます。", "新しいスマートフォンを買いました。", "このレストランの料理はおいしいです。",
    "週末は家族と一緒に京都へ行きます。", "カスタマーサービスの対応が丁寧でした。", "サイズが合わないので交換したいです。",
    "電車が遅れて会社に遅刻しました。", "日本語を勉強しています。", "品質が良くて値段も安い。",
    "箱が壊れていました。", "ありがとうございます、また利用します。", "山田さんは大阪に住んでいます。",
    "明日の会議は十時から始まります。", "桜の季節はとても美しいです。",
]

_KO = [
    "배송이 너무 늦어요.", "이 제품 품질이 아주 좋습니다.", "환불은 언제 되나요?",
    "서울은 한국의 수도입니다.", "고객 서비스가 친절했어요.", "감사합니다, 다음에 또 주문할게요.",
]

_RU = [
    "Привет, как дела?", "Доставка задержалась на неделю.", "Качество товара отличное, рекомендую.",
    "Когда вернут деньги за заказ?", "Курьер был очень вежлив.", "Упаковка была повреждена.",
    "Москва является столицей России.", "Я хочу вернуть этот товар.", "Спасибо за быструю доставку!",
    "Размер не подошёл, нужна замена.", "Служба поддержки не отвечает уже три дня.",
    "Цена слишком высокая для такого качества.", "Сегодня хорошая погода, пойдём гулять.",
    "Мы живём в Санкт-Петербурге.", "Заказ пришёл вовремя, всё работает.", "Телефон сломался через неделю.",
    "Посылка пришла поздно, но в целом доволен.", "Пожалуйста, проверьте мой заказ.",
    "Київ — столиця України.", "Дякую за допомогу!",
]

_AR = [
    "مرحبا بالعالم", "الطلب لم يصل بعد", "جودة المنتج ممتازة", "متى سيتم استرداد المبلغ؟",
    "خدمة العملاء كانت رائعة", "التوصيل كان بطيئا جدا", "أريد إرجاع هذا المنتج", "شكرا جزيلا على المساعدة",
    "القاهرة هي عاصمة مصر", "السعر مرتفع قليلا", "وصل الطرد متأخرا", "المنتج مطابق للوصف",
    "اللغة العربية جميلة", "نحن نعمل كل يوم من الصباح إلى المساء",
]

_LATIN = [
    "Café naïve façade – “quotes” and accents", "Ça coûte très cher, señor Müller!",
    "Le colis est arrivé en retard.", "La qualité du produit est excellente.", "Où est la gare, s'il vous plaît ?",
    "Je voudrais être remboursé rapidement.", "El paquete llegó tarde.", "¿Cuándo recibiré el reembolso?",
    "El servicio al cliente fue muy amable.", "Mañana vamos a la playa con los niños.", "Está muy caro, pero es bonito.",
    "Die Lieferung war zu langsam.", "Über die Qualität kann ich mich nicht beschweren.", "Größe passt nicht, bitte umtauschen.",
    "Schöne Grüße aus München!", "Straße, Mädchen, Brötchen und Käse.", "O pedido não chegou ainda.",
    "Atendimento excelente, recomendo!", "São Paulo é uma cidade enorme.", "A entrega atrasou uma semana.",
    "La consegna è stata veloce.", "Perché il rimborso non è ancora arrivato?", "Città, università, perché.",
    "Zamówienie dotarło uszkodzone.", "Dziękuję za szybką odpowiedź.", "Łódź, Kraków, Gdańsk i Poznań.",
    "Sipariş çok geç geldi.", "Ürün kalitesi çok iyi, teşekkürler.", "İstanbul'da yaşıyorum.",
    "Đơn hàng của tôi đã bị giao chậm.", "Sản phẩm rất tốt, cảm ơn bạn.", "Tiếng Việt có nhiều dấu.",
    "Príliš drahé, ale kvalitné.", "Děkuji, všechno přišlo v pořádku.", "Ålborg, Øresund og Æbleskiver.",
    "Smörgåsbord och kanelbullar.", "Hyvää päivää, kiitos paljon!", "Árvíztűrő tükörfúrógép.",
    "Crème brûlée, jalapeño, piñata, déjà vu.", "Naïve coöperation, résumé, fiancée.",
]

_EN = [
    "The quick brown fox jumps over the lazy dog.", "Hello", "The parcel arrived late.",
    "Customer complains that delivery is too slow.", "This product is of very good quality.",
    "When will the refund arrive?", "The courier was rude and the box was damaged.",
    "I would like to return this item.", "Great service, fast shipping, will buy again!",
    "The battery drains too quickly.", "Please check my order number 12345.",
    "The size is too small, I need an exchange.", "Support has not answered for three days.",
    "I love pizza and sushi!", "A man is playing a guitar on the stage.",
    "Order #98765 was shipped on 2024-03-15 at 10:30.", "Price: $19.99, discount 15%, total $16.99.",
    "Email support@example.com or call +1-555-0100.", "Leading and trailing whitespace is stripped.",
    "In the long afternoon the committee read every clause of the proposal aloud.",
    "Machine learning models turn sentences into vectors.", "The weather is nice today, let's go for a walk.",
    "Thanks a lot for your help!", "The app crashes every time I open it.",
    "Punctuation: !!! ... ??? ;;; --- *** ((( ))) [[[ ]]] {{{ }}} @@@ ### $$$ %%% &&& +++ === ~~~",
]

_MIXED = [
    "订单 #12345 was shipped to Москва via 東京", "客服 said the refund will arrive tomorrow.",
    "Le colis 包裹 est arrivé, спасибо!", "iPhone 15 Pro 手机 256GB 黑色", "Amazon 和 淘宝 的价格差不多",
    "Ich habe 三个 Bestellungen aufgegeben.", "Meeting at 会议室 B, 3:00 PM",
    "I love pizza 🍕🍕 and sushi 🍣!", "Great job 👍 非常好 😊", "Thank you ❤️ 谢谢 спасибо شكرا",
    "ＡＢＣ ｆｕｌｌ－ｗｉｄｔｈ １２３",
]

_NUMBERS = [
    "0 1 2 3 4 5 6 7 8 9 10 11 12 20 50 100 1000 2024 12345",
    "3.14 2.718 1/2 50% 1,000,000 -42 +7 #1 No.5",
]


# Longer prose, split into sentences: more distinct characters and words.
_PROSE = """
春节是中国最重要的传统节日。每年春节前，很多人都要回老家和家人团聚。火车站和机场里到处都是拿着行李的旅客。
除夕晚上，一家人坐在一起吃年夜饭，看电视节目，聊天到深夜。孩子们最喜欢放鞭炮和收红包。
随着互联网的发展，越来越多的人通过手机发红包、买年货，还可以在网上视频拜年。
我们的平台每天要处理上万条用户评论，其中大部分是关于物流、售后和商品质量的反馈。
数据分析团队会把这些评论分类，找出常见问题，再交给相关部门改进。
如果同一个问题在短时间内被很多客户提到，系统会自动发出警报，提醒负责人及时处理。
夏天的时候，南方经常下大雨，有时候还会有台风，道路积水，快递也会因此延误。
小王刚毕业，在一家科技公司当软件工程师，工作很忙，但是学到了很多东西。
他每天坐地铁上班，路上大约需要四十分钟，他常常利用这段时间看书或者听音乐。
医生建议大家多喝水、少吃油炸食品、坚持锻炼身体，保持良好的生活习惯。
这家餐厅的招牌菜是红烧肉和清蒸鱼，价格实惠，环境干净，周末常常需要排队。
请您耐心等待，我们的工作人员会在二十四小时之内联系您，给您带来的不便敬请谅解。
日本の四季はそれぞれ美しく、春には桜、秋には紅葉を見に多くの観光客が訪れます。
新幹線は速くて便利ですが、料金は少し高いです。駅の近くには安いホテルがたくさんあります。
この度はご迷惑をおかけして、誠に申し訳ございませんでした。至急、代わりの商品をお送りいたします。
子供たちは公園でサッカーをしたり、自転車に乗ったりして、夕方まで元気に遊んでいました。
図書館で勉強していると、窓の外から雨の音が聞こえてきて、とても静かな気持ちになりました。
Вчера вечером мы долго гуляли по набережной и разговаривали о путешествиях, работе и детях.
Зимой в Сибири очень холодно, температура иногда опускается ниже сорока градусов.
Наша компания занимается доставкой товаров по всей стране, от Калининграда до Владивостока.
Если товар пришёл с дефектом, напишите нам, приложите фотографии, и мы быстро решим вопрос.
Библиотека открыта каждый день, кроме воскресенья, с девяти утра до восьми вечера.
يحتفل الناس في العالم العربي بشهر رمضان بالصيام من الفجر حتى غروب الشمس.
تقع مدينة دبي على ساحل الخليج العربي، وهي مشهورة بالمباني العالية والأسواق الكبيرة.
نعتذر عن التأخير في توصيل طلبكم، وسنقوم بتعويضكم بخصم على الطلب القادم.
يدرس أخي الهندسة في الجامعة، ويريد أن يعمل في شركة كبيرة بعد التخرج.
Pendant les vacances d'été, nous sommes partis en Bretagne pour découvrir la côte et goûter les crêpes.
Le service après-vente m'a répondu très rapidement et m'a proposé un échange gratuit.
Les élèves préparent un exposé sur l'histoire de leur région et sur les traditions locales.
En primavera, los campos se llenan de flores y los pájaros vuelven a cantar por las mañanas.
Nuestro equipo de atención al cliente está disponible de lunes a viernes, de nueve a seis.
Los niños jugaban al fútbol en la plaza mientras sus abuelos conversaban a la sombra.
Im Herbst färben sich die Blätter bunt, und in den Wäldern kann man Pilze sammeln.
Wir bedauern die Verzögerung und werden Ihnen die Versandkosten selbstverständlich erstatten.
Nach dem Studium möchte meine Schwester ein Jahr lang in Südamerika arbeiten und reisen.
No inverno, a cidade fica mais tranquila, e os moradores aproveitam para passear pelos parques.
A nossa loja oferece devolução gratuita em até trinta dias após a compra.
Trong mùa hè, nhiều gia đình đưa con cái đi biển để nghỉ ngơi và tắm nắng.
Bu yaz tatilinde ailecek Kapadokya'ya gittik ve balonla gün doğumunu izledik.
W weekend pojechaliśmy nad morze, a pogoda była piękna przez cały czas.
한국 사람들은 설날에 떡국을 먹고 어른들께 세배를 드립니다.
주문하신 상품은 내일 오후에 도착할 예정입니다. 이용해 주셔서 감사합니다.
Every morning the bakery on the corner sells fresh bread, croissants and cinnamon rolls.
Our warehouse team packs thousands of orders a day and ships them within twenty-four hours.
If you are not satisfied with your purchase, you can return it within thirty days for a full refund.
The museum's new exhibition explores the history of printing, from woodblocks to modern presses.
秋天到了，树叶变黄了，农民伯伯忙着收割稻谷，脸上露出了丰收的笑容。
这款洗衣机噪音小、省水省电，操作也很简单，老人家也能轻松使用。
我昨天在网上订了一张去成都的高铁票，打算去看熊猫，再尝尝正宗的火锅。
收到的蛋糕奶油都化了，盒子也压扁了，希望商家以后注意冷链运输。
老师鼓励学生们多读课外书，培养独立思考和解决问题的能力。
京都の古いお寺を巡りながら、抹茶と和菓子を楽しみました。
Пожалуйста, укажите номер заказа, адрес электронной почты и удобное время для звонка.
Mi abuela cocina la mejor paella del pueblo; todos los domingos comemos juntos en su jardín.
La pâtisserie du quartier prépare des macarons, des éclairs et des tartes aux fraises délicieuses.
Die Bergsteiger erreichten den Gipfel kurz nach Sonnenaufgang, erschöpft, aber glücklich.
Quantum computers could one day simulate molecules that are far too complex for classical machines.
周末我们全家去郊外爬山，山顶的风景特别美，还拍了很多照片。
新买的冰箱制冷效果一般，而且门关不严，联系了三次售后都没人上门。
这次活动的奖品非常丰富，包括笔记本电脑、蓝牙音箱和购物卡。
外卖送到的时候汤洒了一半，骑手也没有道歉，体验很糟糕。
雪が降った朝、町全体が真っ白になり、子供たちは雪だるまを作りました。
Осенью в парке много жёлтых листьев, и дети собирают из них букеты.
Het pakket is gisteren bezorgd, maar de doos was helemaal nat door de regen.
Η παράδοση καθυστέρησε δύο ημέρες, αλλά το προϊόν είναι εξαιρετικό.
ההזמנה הגיעה בזמן והשירות היה מצוין.
Wakati wa mvua nyingi, barabara nyingi huwa na matope na usafiri unakuwa mgumu.
"""
_PROSE_LINES = [line for line in _PROSE.splitlines() if line]


# (separator, subjects, verbs, objects) to combine into more, varied lines per language.
_TEMPLATES = [
    ("", ["客户", "用户", "买家", "顾客", "会员"], ["投诉", "反映", "表示", "询问", "希望"],
     ["物流太慢。", "质量很好。", "退款没到账。", "包装破损。", "客服态度差。", "价格太贵。", "发错了货。", "尺码不合适。"]),
    ("", ["お客様は", "私は", "彼女は", "店長は"], ["昨日", "今日", "先週", "毎日"],
     ["商品を注文しました。", "返品を依頼しました。", "電話で問い合わせました。", "配送状況を確認しました。",
      "新しい靴を買いました。"]),
    (" ", ["Клиент", "Покупатель", "Мой друг", "Менеджер"], ["вчера", "сегодня", "снова", "наконец"],
     ["получил заказ.", "написал жалобу.", "вернул товар.", "позвонил в поддержку.", "оплатил покупку картой."]),
    (" ", ["العميل", "المشتري", "صديقي", "المدير"], ["اشترى", "أرجع", "طلب", "استلم"],
     ["الهاتف الجديد", "الكتاب اليوم", "الطرد أمس", "المنتج بسرعة"]),
    (" ", ["Le client", "Mon voisin", "La vendeuse", "Notre équipe"], ["a reçu", "a renvoyé", "a commandé", "a réparé"],
     ["le colis abîmé.", "une nouvelle télévision.", "les chaussures trop petites.", "le vélo électrique."]),
    (" ", ["El cliente", "Mi hermana", "La empresa", "El técnico"], ["compró", "devolvió", "reparó", "envió"],
     ["el teléfono móvil.", "la cámara de fotos.", "un regalo para mañana.", "la lavadora nueva."]),
    (" ", ["Der Kunde", "Meine Mutter", "Das Geschäft", "Unser Fahrer"], ["hat", "hatte", "wird"],
     ["die Bestellung storniert.", "das Paket zurückgeschickt.", "eine Beschwerde geschrieben.",
      "den Kühlschrank geliefert."]),
    (" ", ["The customer", "My neighbour", "Our support team", "The driver"], ["returned", "ordered", "fixed", "delivered"],
     ["the broken laptop.", "a new pair of shoes.", "the parcel yesterday.", "the package to the wrong address."]),
]


def _generated():
    return [sep.join([s, v, o]) for sep, subjects, verbs, objects in _TEMPLATES
            for s in subjects for v in verbs for o in objects]


# Without the test texts themselves (or with a final "。" added): a real tokenizer
# has not seen them, and here they would become single pieces.
CORPUS = [
    line
    for line in dict.fromkeys(
        _ZH + _JA + _KO + _RU + _AR + _LATIN + _EN + _MIXED + _NUMBERS + _generated() + _PROSE_LINES
    )
    if line not in TEXTS and line.rstrip("。") not in TEXTS
]
