#!/usr/bin/env python3
"""Writes bench/zh_corpus.txt: short Chinese customer-service and product
phrases (5-40 characters), the kind of text the seed embedded, for the
benchmark's "multilingual" phase (bench/run.sh).

    python3 bench/make_zh_corpus.py [--n 3000] [--out bench/zh_corpus.txt]

Generated, no third-party text: templates and word lists written for this
script, filled with random.Random(SEED) draws, so every run writes the same
file. Kinds: product descriptions, questions before buying, logistics,
refunds and returns, complaints, praise, account and invoice matters, with
numbers, prices, dates, model numbers (型号 X7-Pro), order numbers and some
Latin words (iPhone, USB-C, App) as such texts have. Lines are distinct.
Standard library only.
"""
import argparse
import random

SEED = 20261202

PRODUCTS = [
    "手机", "耳机", "蓝牙耳机", "充电宝", "数据线", "充电器", "平板电脑", "笔记本电脑", "机械键盘", "无线鼠标",
    "显示器", "智能手表", "运动手环", "电饭煲", "空气炸锅", "电水壶", "吸尘器", "扫地机器人", "加湿器", "电风扇",
    "空调", "冰箱", "洗衣机", "微波炉", "咖啡机", "榨汁机", "吹风机", "电动牙刷", "剃须刀", "台灯",
    "保温杯", "行李箱", "双肩包", "运动鞋", "羽绒服", "T恤", "牛仔裤", "连衣裙", "床单", "枕头",
    "洗发水", "沐浴露", "面霜", "防晒霜", "口红", "奶粉", "纸尿裤", "狗粮", "猫砂", "茶叶",
    "路由器", "移动硬盘", "U盘", "内存卡", "打印机", "投影仪", "音箱", "摄像头", "门锁", "电动车",
]
BRANDS = ["小米", "华为", "苹果", "联想", "美的", "格力", "海尔", "索尼", "戴森", "飞利浦", "安踏", "李宁", "OPPO", "vivo", "荣耀"]
LATIN_PRODUCTS = ["iPhone 15", "iPad", "AirPods", "USB-C 数据线", "Type-C 充电头", "WiFi 路由器", "4K 显示器", "SSD 硬盘",
                  "HDMI 线", "Switch 手柄", "Kindle", "GoPro"]
COLORS = ["黑色", "白色", "红色", "蓝色", "灰色", "粉色", "绿色", "金色", "银色", "深空灰"]
SIZES = ["S码", "M码", "L码", "XL码", "XXL码", "36码", "38码", "40码", "42码", "大号", "小号", "中号"]
SPECS = ["64G", "128G", "256G", "512G", "1T", "8G+256G", "12G+512G", "1.5L", "2L", "3L", "5L", "10000mAh", "20000mAh",
         "65W", "120W", "27英寸", "24英寸", "15.6英寸", "500ml", "1kg"]
QUALITIES = ["质量很好", "做工精细", "性价比高", "手感不错", "续航很强", "声音清晰", "颜值很高", "包装完好", "非常轻便",
             "噪音很小", "充电很快", "味道清香", "尺码标准", "面料舒服", "屏幕清楚", "操作简单", "安装方便", "很耐用"]
DEFECTS = ["屏幕有划痕", "开不了机", "充不进电", "有异味", "声音有杂音", "按键失灵", "漏水", "颜色不对", "尺码偏小",
           "尺码偏大", "少了配件", "外包装破损", "发热严重", "连不上蓝牙", "频繁死机", "掉色", "起球", "缺少说明书",
           "电池鼓包", "接口松动", "有色差", "线头很多", "无法联网", "自动关机"]
COURIERS = ["顺丰", "中通", "圆通", "韵达", "申通", "京东物流", "邮政", "极兔"]
CITIES = ["北京", "上海", "广州", "深圳", "杭州", "成都", "武汉", "南京", "西安", "重庆", "天津", "苏州", "长沙", "郑州",
          "青岛", "厦门", "沈阳", "昆明", "哈尔滨", "乌鲁木齐"]
PAYMENTS = ["微信支付", "支付宝", "银行卡", "信用卡", "花呗", "货到付款", "Apple Pay"]
TIMES = ["今天", "明天", "昨天", "前天", "上周", "这周末", "下周一", "月底", "双十一", "618", "春节前", "三天前", "一周前"]
UPSET = ["太失望了", "非常生气", "有点着急", "麻烦尽快处理", "希望给个说法", "体验很差", "已经第二次了", "等了很久"]
PLEASED = ["很满意", "非常感谢", "下次还会再来", "客服态度很好", "推荐购买", "物超所值"]
POLITE = ["您好", "你好", "请问", "麻烦问一下", "亲", "客服你好", "在吗", "打扰一下"]


def model_number(r):
    return f"{r.choice('ABCDEFGHKMNPRSTVXZ')}{r.randint(1, 99)}{r.choice(['', '-Pro', '-Max', '-S', '-Plus', 'L', 'X'])}"


def order_number(r):
    return str(r.randint(10**11, 10**12 - 1)) if r.random() < 0.5 else f"{r.choice(['JD', 'TB', 'SF', 'DD'])}{r.randint(10**8, 10**9 - 1)}"


def price(r):
    return r.choice([f"{r.randint(9, 999)}元", f"{r.randint(1, 60) * 100 - 1}元", f"¥{r.randint(5, 3000)}",
                     f"{r.randint(10, 99)}.{r.randint(0, 9)}元"])


def product(r):
    x = r.random()
    if x < 0.12:
        return r.choice(LATIN_PRODUCTS)
    if x < 0.45:
        return r.choice(BRANDS) + r.choice(PRODUCTS)
    return r.choice(PRODUCTS)


TEMPLATES = [
    # product descriptions
    lambda r: f"{r.choice(BRANDS)}{r.choice(PRODUCTS)} {r.choice(SPECS)} {r.choice(COLORS)}",
    lambda r: f"{product(r)}{r.choice(SPECS)}，{r.choice(QUALITIES)}，现价{price(r)}",
    lambda r: f"型号{model_number(r)}的{r.choice(PRODUCTS)}，{r.choice(COLORS)}{r.choice(SIZES)}",
    lambda r: f"新款{r.choice(PRODUCTS)}，{r.choice(QUALITIES)}，包邮",
    lambda r: f"{r.choice(COLORS)}{r.choice(PRODUCTS)}{r.choice(SIZES)}还有货吗",
    # questions before buying
    lambda r: f"{r.choice(POLITE)}，{product(r)}支持{r.choice(PAYMENTS)}吗？",
    lambda r: f"{r.choice(POLITE)}，这款{r.choice(PRODUCTS)}有{r.choice(COLORS)}的吗",
    lambda r: f"{product(r)}和型号{model_number(r)}有什么区别？",
    lambda r: f"{r.choice(POLITE)}，{r.choice(PRODUCTS)}保修多久？",
    lambda r: f"买两件{r.choice(PRODUCTS)}能便宜点吗",
    lambda r: f"{r.choice(TIMES)}下单的话{r.choice(CITIES)}几天能到？",
    lambda r: f"{r.choice(PRODUCTS)}{r.choice(SPECS)}的现在多少钱",
    lambda r: f"{r.choice(POLITE)}，{r.choice(PRODUCTS)}是正品吗？有发票吗？",
    # logistics
    lambda r: f"订单号{order_number(r)}什么时候发货？",
    lambda r: f"我的快递到{r.choice(CITIES)}好几天了还没派送",
    lambda r: f"{r.choice(COURIERS)}单号{order_number(r)}查不到物流信息",
    lambda r: f"{r.choice(TIMES)}买的{product(r)}还没收到",
    lambda r: f"能不能改成发{r.choice(COURIERS)}快递？",
    lambda r: f"收货地址写错了，要改到{r.choice(CITIES)}",
    lambda r: f"快递显示已签收但我没收到{r.choice(PRODUCTS)}",
    lambda r: f"物流{r.randint(3, 15)}天没更新了，{r.choice(UPSET)}",
    # refunds and returns
    lambda r: f"{r.choice(PRODUCTS)}{r.choice(DEFECTS)}，申请退货",
    lambda r: f"订单{order_number(r)}申请退款，{r.choice(TIMES)}提交的",
    lambda r: f"退款{price(r)}什么时候到账？",
    lambda r: f"七天无理由退货运费谁出？",
    lambda r: f"{r.choice(POLITE)}，{product(r)}不想要了能退吗",
    lambda r: f"换货的{r.choice(PRODUCTS)}还是{r.choice(DEFECTS)}",
    lambda r: f"退款退到{r.choice(PAYMENTS)}还是原路返回？",
    lambda r: f"仅退款不退货可以吗？{r.choice(PRODUCTS)}{r.choice(DEFECTS)}",
    # complaints
    lambda r: f"刚收到的{product(r)}就{r.choice(DEFECTS)}，{r.choice(UPSET)}",
    lambda r: f"买了{r.randint(2, 9)}天{r.choice(PRODUCTS)}就{r.choice(DEFECTS)}了",
    lambda r: f"{r.choice(PRODUCTS)}{r.choice(DEFECTS)}，客服一直不回复",
    lambda r: f"同一个型号{model_number(r)}，为什么别家便宜{r.randint(10, 300)}元",
    lambda r: f"{r.choice(TIMES)}降价了，能补差价吗？",
    lambda r: f"投诉：订单{order_number(r)}{r.choice(DEFECTS)}",
    lambda r: f"{r.choice(UPSET)}，{r.choice(PRODUCTS)}{r.choice(DEFECTS)}",
    # praise
    lambda r: f"{product(r)}{r.choice(QUALITIES)}，{r.choice(PLEASED)}",
    lambda r: f"物流很快，{r.choice(TIMES)}下单{r.choice(TIMES)}就到了",
    lambda r: f"第{r.randint(2, 6)}次回购{r.choice(PRODUCTS)}了，{r.choice(QUALITIES)}",
    lambda r: f"给{r.choice(['爸妈', '孩子', '老婆', '老公', '朋友', '同事'])}买的{r.choice(PRODUCTS)}，{r.choice(QUALITIES)}",
    lambda r: f"{r.choice(QUALITIES)}，{r.choice(QUALITIES)}，五星好评",
    lambda r: f"这个价格买到{product(r)}，{r.choice(PLEASED)}",
    # account, coupons, invoices
    lambda r: f"优惠券满{r.randint(1, 20) * 50}减{r.randint(1, 10) * 10}怎么用不了？",
    lambda r: f"{r.choice(POLITE)}，会员积分{r.randint(100, 9999)}能抵多少钱",
    lambda r: f"发票抬头写错了，订单号{order_number(r)}",
    lambda r: f"App登录不上，提示验证码错误",
    lambda r: f"{r.choice(PAYMENTS)}付款失败，扣了{price(r)}",
    lambda r: f"手机号{r.choice(['138', '139', '186', '150', '177'])}****{r.randint(1000, 9999)}绑定的账号被冻结了",
    lambda r: f"{r.choice(POLITE)}，{r.choice(TIMES)}的活动还有吗？",
    lambda r: f"怎么开增值税专用发票？",
    lambda r: f"{r.choice(POLITE)}，我要转人工客服",
    # short ones
    lambda r: f"{r.choice(PRODUCTS)}还有货吗",
    lambda r: f"{r.choice(PRODUCTS)}怎么用",
    lambda r: f"{r.choice(['催一下', '尽快', '今天能', '什么时候'])}发货{r.choice(['', '？', '吧', '啊'])}",
    lambda r: f"{r.choice(COLORS)}{r.choice(SIZES)}",
    lambda r: f"{r.choice(['退款', '退货', '换货', '维修', '补发'])}进度{r.choice(['？', '查询', '怎么样了'])}",
    lambda r: f"{r.choice(DEFECTS)}怎么办",
]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=3000)
    ap.add_argument("--out", default="bench/zh_corpus.txt")
    args = ap.parse_args()
    r = random.Random(SEED)
    lines, seen = [], set()
    attempts = 0
    while len(lines) < args.n:
        attempts += 1
        if attempts > 200 * args.n:
            raise SystemExit(f"only {len(lines)} distinct lines after {attempts} attempts")
        text = r.choice(TEMPLATES)(r)
        if 5 <= len(text) <= 40 and text not in seen:
            seen.add(text)
            lines.append(text)
    with open(args.out, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
    lengths = sorted(len(t) for t in lines)
    print(f"{args.out}: {len(lines)} lines, {lengths[0]}-{lengths[-1]} characters, median {lengths[len(lengths) // 2]}")


if __name__ == "__main__":
    main()
