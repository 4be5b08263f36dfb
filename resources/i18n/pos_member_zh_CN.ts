<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="zh_CN">
<context>
    <name>AdjustDialog</name>
    <message>
        <source>Adjust points of %1 (Ctrl+F7)</source>
        <translation>调整 %1 的积分 (Ctrl+F7)</translation>
    </message>
    <message>
        <source>&amp;Points (+ or −)</source>
        <translation>积分（正负）(&amp;P)</translation>
    </message>
    <message>
        <source>Points: %1</source>
        <translation>积分：%1</translation>
    </message>
    <message>
        <source>Balance: %1 → %2</source>
        <translation>积分余额：%1 → %2</translation>
    </message>
    <message>
        <source>Reason: %1</source>
        <translation>原因：%1</translation>
    </message>
    <message>
        <source>Adjust the points of %1?</source>
        <translation>确认调整会员 %1 的积分？</translation>
    </message>
    <message>
        <source>Adjust</source>
        <translation>确认调整</translation>
    </message>
</context>
<context>
    <name>CardPrint</name>
    <message>
        <source>Member card</source>
        <translation>会员卡</translation>
    </message>
    <message>
        <source>No. %1</source>
        <translation>卡号 %1</translation>
    </message>
</context>
<context>
    <name>CardView</name>
    <message>
        <source>Frozen: no points, no stored-value spending</source>
        <translation>已冻结：不累积积分，不可使用储值</translation>
    </message>
    <message>
        <source>Blacklisted: do not serve</source>
        <translation>黑名单：不予办理</translation>
    </message>
    <message>
        <source>Status</source>
        <translation>状态</translation>
    </message>
    <message>
        <source>Personal data erased</source>
        <translation>个人信息已删除</translation>
    </message>
    <message>
        <source>Tier set by hand</source>
        <translation>手动等级</translation>
    </message>
    <message>
        <source>until %1</source>
        <translation>至 %1</translation>
    </message>
    <message>
        <source>(no name)</source>
        <translation>（未填姓名）</translation>
    </message>
    <message>
        <source>Phone</source>
        <translation>手机号</translation>
    </message>
    <message>
        <source>Tier</source>
        <translation>等级</translation>
    </message>
    <message>
        <source>Gender</source>
        <translation>性别</translation>
    </message>
    <message>
        <source>Birthday month</source>
        <translation>生日月份</translation>
    </message>
    <message>
        <source>Month %1</source>
        <translation>%1月</translation>
    </message>
    <message>
        <source>Source</source>
        <translation>来源渠道</translation>
    </message>
    <message>
        <source>Guide</source>
        <translation>招募导购</translation>
    </message>
    <message>
        <source>Referred by</source>
        <translation>推荐人</translation>
    </message>
    <message>
        <source>Registered</source>
        <translation>注册时间</translation>
    </message>
    <message>
        <source>Tags</source>
        <translation>标签</translation>
    </message>
    <message>
        <source>Marketing</source>
        <translation>营销消息</translation>
    </message>
    <message>
        <source>Agreed</source>
        <translation>已同意</translation>
    </message>
    <message>
        <source>Not agreed</source>
        <translation>未同意</translation>
    </message>
    <message>
        <source>Points</source>
        <translation>积分</translation>
    </message>
    <message>
        <source>Stored value</source>
        <translation>储值余额</translation>
    </message>
    <message>
        <source>Coupons</source>
        <translation>优惠券</translation>
    </message>
    <message>
        <source>Member of %1</source>
        <translation>%1 会员</translation>
    </message>
    <message>
        <source>Home store</source>
        <translation>所属门店</translation>
    </message>
    <message>
        <source>Member of another store</source>
        <translation>其他门店会员</translation>
    </message>
</context>
<context>
    <name>CloseDayDialog</name>
    <message>
        <source>Close the day (F12)</source>
        <translation>日结（F12）</translation>
    </message>
    <message>
        <source>Closing the day: sending everything to head office…</source>
        <translation>正在日结：向总部上传全部数据…</translation>
    </message>
    <message>
        <source>Close the day &amp;again</source>
        <translation>重新日结(&amp;A)</translation>
    </message>
    <message>
        <source>Closing the day failed (%1); nothing was lost.</source>
        <translation>日结失败（%1）；数据没有丢失。</translation>
    </message>
</context>
<context>
    <name>ConfirmDialog</name>
    <message>
        <source>Check the figures with the customer.</source>
        <translation>请与顾客核对以上金额和积分。</translation>
    </message>
    <message>
        <source>Ctrl+Enter confirms; Enter or Esc goes back and changes nothing.</source>
        <translation>Ctrl+Enter 确认；Enter 或 Esc 返回，不做任何更改。</translation>
    </message>
    <message>
        <source>Back (Enter/Esc)</source>
        <translation>返回 (Enter/Esc)</translation>
    </message>
    <message>
        <source>%1 (Ctrl+Enter)</source>
        <translation>%1 (Ctrl+Enter)</translation>
    </message>
</context>
<context>
    <name>CouponIssueDialog</name>
    <message>
        <source>A coupon for %1 (Ctrl+K)</source>
        <translation>给 %1 发券（Ctrl+K）</translation>
    </message>
    <message>
        <source>&amp;Coupon</source>
        <translation>优惠券(&amp;C)</translation>
    </message>
    <message>
        <source>Issue a coupon to %1?</source>
        <translation>给 %1 发放优惠券？</translation>
    </message>
    <message>
        <source>Coupon: %1</source>
        <translation>优惠券：%1</translation>
    </message>
    <message>
        <source>Reason: %1</source>
        <translation>原因：%1</translation>
    </message>
    <message>
        <source>Issue</source>
        <translation>发放</translation>
    </message>
</context>
<context>
    <name>CouponWithdrawDialog</name>
    <message>
        <source>Withdraw a coupon of %1 (Ctrl+Shift+K)</source>
        <translation>撤回 %1 的优惠券（Ctrl+Shift+K）</translation>
    </message>
    <message>
        <source>loading the member&apos;s coupons…</source>
        <translation>正在读取会员的优惠券…</translation>
    </message>
    <message>
        <source>&amp;Coupon</source>
        <translation>优惠券(&amp;C)</translation>
    </message>
    <message>
        <source>The member has no usable coupon.</source>
        <translation>该会员没有可用的优惠券。</translation>
    </message>
    <message>
        <source>Withdraw a coupon of %1?</source>
        <translation>撤回 %1 的优惠券？</translation>
    </message>
    <message>
        <source>Coupon: %1</source>
        <translation>优惠券：%1</translation>
    </message>
    <message>
        <source>Reason: %1</source>
        <translation>原因：%1</translation>
    </message>
    <message>
        <source>It can no longer be used at any store.</source>
        <translation>撤回后任何门店都不能再使用。</translation>
    </message>
    <message>
        <source>Withdraw</source>
        <translation>撤回</translation>
    </message>
</context>
<context>
    <name>Coupons</name>
    <message>
        <source>%1 off %2</source>
        <translation>满%2减%1</translation>
    </message>
    <message>
        <source>%1 off</source>
        <translation>减%1</translation>
    </message>
    <message>
        <source>%1% off</source>
        <translation>立减%1%</translation>
    </message>
    <message>
        <source>(at most %1)</source>
        <translation>（最多%1）</translation>
    </message>
    <message>
        <source>gift: %1</source>
        <translation>赠品：%1</translation>
    </message>
    <message>
        <source>head office&apos;s offer</source>
        <translation>总部优惠</translation>
    </message>
    <message>
        <source>soonest ends %1</source>
        <translation>最早%1到期</translation>
    </message>
</context>
<context>
    <name>Dashboard</name>
    <message>
        <source>Mon</source>
        <translation>周一</translation>
    </message>
    <message>
        <source>Tue</source>
        <translation>周二</translation>
    </message>
    <message>
        <source>Wed</source>
        <translation>周三</translation>
    </message>
    <message>
        <source>Thu</source>
        <translation>周四</translation>
    </message>
    <message>
        <source>Fri</source>
        <translation>周五</translation>
    </message>
    <message>
        <source>Sat</source>
        <translation>周六</translation>
    </message>
    <message>
        <source>Sun</source>
        <translation>周日</translation>
    </message>
    <message>
        <source>Not on shift</source>
        <translation>未排班</translation>
    </message>
    <message>
        <source>✔ Met</source>
        <translation>✔ 已达标</translation>
    </message>
    <message>
        <source>⚠ Behind: %1 due by now</source>
        <translation>⚠ 落后：此刻应达 %1</translation>
    </message>
    <message>
        <source>On pace</source>
        <translation>进度正常</translation>
    </message>
    <message>
        <source>、</source>
        <translation>、</translation>
    </message>
    <message>
        <source>%1 %2/%3</source>
        <translation>%1 %2/%3</translation>
    </message>
    <message>
        <source>Behind the pace of this hour: %1</source>
        <translation>落后于当前时段进度：%1</translation>
    </message>
    <message>
        <source>No recruitment target for today: set the month&apos;s target (Ctrl+T).</source>
        <translation>今日没有招募目标：请设置本月目标（Ctrl+T）。</translation>
    </message>
    <message>
        <source>Every guide on shift has met today&apos;s target.</source>
        <translation>当班导购全部达成今日目标。</translation>
    </message>
    <message>
        <source>Every guide on shift is on pace.</source>
        <translation>当班导购均在进度内。</translation>
    </message>
    <message>
        <source>Guide</source>
        <translation>导购</translation>
    </message>
    <message>
        <source>Progress</source>
        <translation>进度</translation>
    </message>
    <message>
        <source>New / target</source>
        <translation>已招募 / 目标</translation>
    </message>
    <message>
        <source>Due by now</source>
        <translation>此刻应达</translation>
    </message>
    <message>
        <source>Status</source>
        <translation>状态</translation>
    </message>
    <message>
        <source>会销比</source>
        <translation>会销比</translation>
    </message>
    <message>
        <source>Member sales share</source>
        <translation>会员销售占比</translation>
    </message>
    <message>
        <source>Recruitment dashboard (F11)</source>
        <translation>招募看板（F11）</translation>
    </message>
    <message>
        <source>F5 Refresh</source>
        <translation>F5 刷新</translation>
    </message>
    <message>
        <source>Ctrl+E Export day report (.xlsx)</source>
        <translation>Ctrl+E 导出日报（.xlsx）</translation>
    </message>
    <message>
        <source>Ctrl+T Targets and roster</source>
        <translation>Ctrl+T 目标与排班</translation>
    </message>
    <message>
        <source>Esc Close</source>
        <translation>Esc 关闭</translation>
    </message>
    <message>
        <source>Updating…</source>
        <translation>正在更新…</translation>
    </message>
    <message>
        <source>Updated %1</source>
        <translation>更新于 %1</translation>
    </message>
    <message>
        <source>Could not update (%1).</source>
        <translation>无法更新（%1）。</translation>
    </message>
    <message>
        <source>Today&apos;s recruitment · %1 %2</source>
        <translation>今日招募 · %1 %2</translation>
    </message>
    <message>
        <source> · no roster entered: every guide counts</source>
        <translation> · 未录入排班：按全部导购计算</translation>
    </message>
    <message>
        <source>Now %1 · open %2 (%3% of the day gone)</source>
        <translation>现在 %1 · 营业时间 %2（已过 %3%）</translation>
    </message>
    <message>
        <source>New members today</source>
        <translation>今日新会员</translation>
    </message>
    <message>
        <source>Due by now %1 · month %2 / %3</source>
        <translation>此刻应达 %1 · 本月 %2 / %3</translation>
    </message>
    <message>
        <source>Guides who met their target (达标)</source>
        <translation>达标导购</translation>
    </message>
    <message>
        <source>%1 behind the pace</source>
        <translation>%1 人落后进度</translation>
    </message>
    <message>
        <source>nobody behind</source>
        <translation>无人落后</translation>
    </message>
    <message>
        <source>会销比 (member-attached sales)</source>
        <translation>会销比</translation>
    </message>
    <message>
        <source>%1 of %2 sales · target %3</source>
        <translation>%2 笔中 %1 笔 · 目标 %3</translation>
    </message>
    <message>
        <source>%1 of %2</source>
        <translation>%1 / %2</translation>
    </message>
    <message>
        <source>new members</source>
        <translation>新会员</translation>
    </message>
    <message>
        <source>target</source>
        <translation>目标</translation>
    </message>
    <message>
        <source>New members, last %1 days</source>
        <translation>近 %1 天新会员</translation>
    </message>
    <message>
        <source>会销比 and member sales share, 30 days</source>
        <translation>近 30 天会销比与会员销售占比</translation>
    </message>
    <message>
        <source>share</source>
        <translation>销售占比</translation>
    </message>
    <message>
        <source>Exporting…</source>
        <translation>正在导出…</translation>
    </message>
    <message>
        <source>Day report saved: %1</source>
        <translation>日报已保存：%1</translation>
    </message>
    <message>
        <source>%1 is open in another program; the day report was saved as %2</source>
        <translation>%1 正被其他程序打开，日报已另存为 %2</translation>
    </message>
    <message>
        <source>Recruited today: %1 (not on shift)</source>
        <translation>今日招募：%1（未排班）</translation>
    </message>
    <message>
        <source>My target today: %1 / %2</source>
        <translation>我的今日目标：%1 / %2</translation>
    </message>
    <message>
        <source>My progress today (F11)</source>
        <translation>我的今日进度（F11）</translation>
    </message>
    <message>
        <source>New members I recruited today</source>
        <translation>我今天招募的新会员</translation>
    </message>
    <message>
        <source>My 会销比 today: %1 (%2 of %3 sales)</source>
        <translation>我的今日会销比：%1（%3 笔中 %2 笔）</translation>
    </message>
</context>
<context>
    <name>FlagsDialog</name>
    <message>
        <source>Alerts (F9)</source>
        <translation>提醒 (F9)</translation>
    </message>
    <message>
        <source>No open alerts.</source>
        <translation>没有待处理的提醒。</translation>
    </message>
    <message>
        <source>Mark &amp;handled…</source>
        <translation>标记为已处理(&amp;H)…</translation>
    </message>
    <message>
        <source>Open the &amp;log folder</source>
        <translation>打开日志文件夹(&amp;L)</translation>
    </message>
    <message>
        <source>%1  Registration burst: %2 in %3 min by %4</source>
        <translation>%1  注册过于频繁：%3 分钟内 %2 次，操作人 %4</translation>
    </message>
    <message>
        <source>%1  %2 change(s) from head office cannot be applied on this till and are held; they are tried again after every update of this program</source>
        <translation>%1  总部的 %2 条变更无法在本机应用，已暂存；本程序每次更新后会重试</translation>
    </message>
    <message>
        <source>%1  Staff number %2 was given to two colleagues on two tills: the later one cannot log in until you give them another number (Ctrl+U Staff)</source>
        <translation>%1  工号 %2 在两台收银机上分给了两位员工：后分配的一位在您给其新工号前无法登录（Ctrl+U 员工）</translation>
    </message>
    <message>
        <source>Mark handled</source>
        <translation>标记为已处理</translation>
    </message>
    <message>
        <source>What was done?</source>
        <translation>处理说明：</translation>
    </message>
</context>
<context>
    <name>GiftDialog</name>
    <message>
        <source>Gifts and coupons for points (Ctrl+G)</source>
        <translation>积分兑换礼品/优惠券 (Ctrl+G)</translation>
    </message>
    <message>
        <source>Member %1 · %2</source>
        <translation>会员 %1 · %2</translation>
    </message>
    <message>
        <source>Loading the member&apos;s points…</source>
        <translation>正在读取会员积分…</translation>
    </message>
    <message>
        <source>No.</source>
        <translation>序号</translation>
    </message>
    <message>
        <source>Item</source>
        <translation>礼品</translation>
    </message>
    <message>
        <source>Kind</source>
        <translation>类型</translation>
    </message>
    <message>
        <source>Points</source>
        <translation>所需积分</translation>
    </message>
    <message>
        <source>Gift</source>
        <translation>礼品</translation>
    </message>
    <message>
        <source>Coupon</source>
        <translation>优惠券</translation>
    </message>
    <message>
        <source>No gifts or coupons in the catalogue.</source>
        <translation>兑换目录中暂无礼品或优惠券。</translation>
    </message>
    <message>
        <source>↑/↓ or the item&apos;s number to choose, Enter to check</source>
        <translation>↑/↓ 或输入序号选择，Enter 核对</translation>
    </message>
    <message>
        <source>Check (Enter)</source>
        <translation>核对 (Enter)</translation>
    </message>
    <message>
        <source>Points the member can spend now: %1</source>
        <translation>会员当前可用积分：%1</translation>
    </message>
    <message>
        <source> (%1 pending)</source>
        <translation>（%1 分待生效）</translation>
    </message>
    <message>
        <source>%1 (%2 short)</source>
        <translation>%1（还差 %2）</translation>
    </message>
    <message>
        <source>Not enough points for %1: it takes %2, the member can spend %3 now.</source>
        <translation>积分不足，无法兑换%1：需要 %2 分，会员当前可用 %3 分。</translation>
    </message>
    <message>
        <source>Exchange points for %1?</source>
        <translation>确认用积分兑换 %1？</translation>
    </message>
    <message>
        <source>Points: −%1</source>
        <translation>扣除积分：%1</translation>
    </message>
    <message>
        <source>Points the member can spend: %1 → %2</source>
        <translation>可用积分：%1 → %2</translation>
    </message>
    <message>
        <source>Exchange</source>
        <translation>确认兑换</translation>
    </message>
    <message>
        <source>Exchanged: %1 for %2 points. Points balance: %3. Hand it over to the member.</source>
        <translation>已兑换：%1，扣除 %2 积分。积分余额：%3。请将礼品交给会员。</translation>
    </message>
    <message>
        <source>Points balance: %1</source>
        <translation>积分余额：%1</translation>
    </message>
    <message>
        <source>Done (Enter)</source>
        <translation>完成 (Enter)</translation>
    </message>
</context>
<context>
    <name>HealthCharts</name>
    <message>
        <source>活跃度</source>
        <translation>活跃度</translation>
    </message>
    <message>
        <source>复购率</source>
        <translation>复购率</translation>
    </message>
    <message>
        <source>流失率</source>
        <translation>流失率</translation>
    </message>
    <message>
        <source>Rates by tier</source>
        <translation>各等级比率</translation>
    </message>
    <message>
        <source>Rates by store</source>
        <translation>各门店比率</translation>
    </message>
    <message>
        <source>%1 days</source>
        <translation>%1 天</translation>
    </message>
    <message>
        <source>留存率 of new members by month</source>
        <translation>每月新会员留存率</translation>
    </message>
</context>
<context>
    <name>HealthDialog</name>
    <message>
        <source>Programme health (Shift+F11)</source>
        <translation>会员健康度 (Shift+F11)</translation>
    </message>
    <message>
        <source>Membership programme health</source>
        <translation>会员体系健康度</translation>
    </message>
    <message>
        <source>From</source>
        <translation>从</translation>
    </message>
    <message>
        <source>to</source>
        <translation>至</translation>
    </message>
    <message>
        <source>留存率 of each month&apos;s new members (bought again within 7/30/90 days)</source>
        <translation>各月新会员的留存率（7/30/90 天内再次购买）</translation>
    </message>
    <message>
        <source>F5 Refresh</source>
        <translation>F5 刷新</translation>
    </message>
    <message>
        <source>Ctrl+E Export (.xlsx)</source>
        <translation>Ctrl+E 导出 (.xlsx)</translation>
    </message>
    <message>
        <source>Esc Close</source>
        <translation>Esc 关闭</translation>
    </message>
    <message>
        <source>Calculating…</source>
        <translation>正在计算…</translation>
    </message>
    <message>
        <source>%1 to %2</source>
        <translation>%1 至 %2</translation>
    </message>
    <message>
        <source>Could not calculate (%1).</source>
        <translation>无法计算（%1）。</translation>
    </message>
    <message>
        <source>Exporting…</source>
        <translation>正在导出…</translation>
    </message>
    <message>
        <source>Report saved: %1</source>
        <translation>报表已保存：%1</translation>
    </message>
    <message>
        <source>%1 is open in another program; the report was saved as %2</source>
        <translation>%1 已被其他程序打开；报表另存为 %2</translation>
    </message>
</context>
<context>
    <name>IntegrationDialog</name>
    <message>
        <source>POS link (Ctrl+I)</source>
        <translation>收银机对接 (Ctrl+I)</translation>
    </message>
    <message>
        <source>not served: %1</source>
        <translation>未提供服务：%1</translation>
    </message>
    <message>
        <source>off (integration_port = 0 in config.toml)</source>
        <translation>已关闭（config.toml 中 integration_port = 0）</translation>
    </message>
    <message>
        <source>API address:</source>
        <translation>接口地址：</translation>
    </message>
    <message>
        <source>Watched folder:</source>
        <translation>监控文件夹：</translation>
    </message>
    <message>
        <source>none</source>
        <translation>无</translation>
    </message>
    <message>
        <source>%1 — not watched: %2</source>
        <translation>%1 — 未能监控：%2</translation>
    </message>
    <message>
        <source>Token:</source>
        <translation>令牌：</translation>
    </message>
    <message>
        <source>It may:</source>
        <translation>权限：</translation>
    </message>
    <message>
        <source>The POS may see members&apos; full phone and name</source>
        <translation>允许收银机查看会员完整手机号和姓名</translation>
    </message>
    <message>
        <source>&amp;Copy</source>
        <translation>复制(&amp;C)</translation>
    </message>
    <message>
        <source>none issued yet</source>
        <translation>尚未签发</translation>
    </message>
    <message>
        <source>&amp;Issue a token</source>
        <translation>签发令牌(&amp;I)</translation>
    </message>
    <message>
        <source>issued %1</source>
        <translation>签发于 %1</translation>
    </message>
    <message>
        <source>&amp;Replace the token (the old one stops working)</source>
        <translation>更换令牌（旧令牌立即失效）(&amp;R)</translation>
    </message>
    <message>
        <source>Shown once: copy it into the POS&apos;s settings now. The till keeps only a fingerprint of it.</source>
        <translation>只显示这一次：请立即复制到收银机的设置中。本机只保存它的指纹。</translation>
    </message>
    <message>
        <source>Copied. Paste it into the POS&apos;s settings.</source>
        <translation>已复制。请粘贴到收银机的设置中。</translation>
    </message>
</context>
<context>
    <name>LedgerDialog</name>
    <message>
        <source>Points ledger of %1 (F7)</source>
        <translation>%1 的积分流水 (F7)</translation>
    </message>
    <message>
        <source>When</source>
        <translation>时间</translation>
    </message>
    <message>
        <source>What</source>
        <translation>类型</translation>
    </message>
    <message>
        <source>Points</source>
        <translation>积分</translation>
    </message>
    <message>
        <source>Balance</source>
        <translation>余额</translation>
    </message>
    <message>
        <source>Store</source>
        <translation>门店</translation>
    </message>
    <message>
        <source>Clerk</source>
        <translation>经办人</translation>
    </message>
    <message>
        <source>Receipt</source>
        <translation>小票</translation>
    </message>
    <message>
        <source>Note</source>
        <translation>备注</translation>
    </message>
    <message>
        <source>No points yet.</source>
        <translation>暂无积分记录。</translation>
    </message>
    <message>
        <source>Stored-value ledger (Shift+F10)</source>
        <translation>储值流水（Shift+F10）</translation>
    </message>
    <message>
        <source>Time</source>
        <translation>时间</translation>
    </message>
    <message>
        <source>Operation</source>
        <translation>操作</translation>
    </message>
    <message>
        <source>Principal</source>
        <translation>本金</translation>
    </message>
    <message>
        <source>Bonus</source>
        <translation>赠送</translation>
    </message>
    <message>
        <source>How</source>
        <translation>方式</translation>
    </message>
    <message>
        <source>Transaction</source>
        <translation>交易号</translation>
    </message>
    <message>
        <source>&amp;Refund selected</source>
        <translation>退款所选(&amp;R)</translation>
    </message>
    <message>
        <source>&amp;Freeze / unfreeze</source>
        <translation>冻结 / 解冻(&amp;F)</translation>
    </message>
    <message>
        <source>Set member &amp;PIN</source>
        <translation>设置会员支付密码(&amp;P)</translation>
    </message>
    <message>
        <source>&amp;Dynamic code set-up</source>
        <translation>绑定动态码(&amp;D)</translation>
    </message>
    <message>
        <source>Balance %1 = principal %2 + bonus %3</source>
        <translation>余额 %1 = 本金 %2 + 赠送 %3</translation>
    </message>
    <message>
        <source>FROZEN</source>
        <translation>已冻结</translation>
    </message>
    <message>
        <source>blocked by head office</source>
        <translation>总部已暂停</translation>
    </message>
    <message>
        <source>Bill %1</source>
        <translation>小票 %1</translation>
    </message>
    <message>
        <source>Select a payment or a top-up to refund.</source>
        <translation>请选择要退款的一笔消费或充值。</translation>
    </message>
    <message>
        <source>Refund this payment?</source>
        <translation>确认退回这笔储值消费？</translation>
    </message>
    <message>
        <source>Refund this top-up?</source>
        <translation>确认退回这笔充值？</translation>
    </message>
    <message>
        <source>Refund</source>
        <translation>确认退款</translation>
    </message>
    <message>
        <source>Payment of %1 at %2</source>
        <translation>消费 %1（%2）</translation>
    </message>
    <message>
        <source>Back into the account: principal %1 + bonus %2</source>
        <translation>退回储值账户：本金 %1 + 赠送 %2</translation>
    </message>
    <message>
        <source>Balance: %1 → %2</source>
        <translation>储值余额：%1 → %2</translation>
    </message>
    <message>
        <source>Top-up of %1 (bonus %2) at %3</source>
        <translation>充值 %1（赠送 %2，%3）</translation>
    </message>
    <message>
        <source>Cash back to the customer: %1</source>
        <translation>退给顾客现金：%1</translation>
    </message>
    <message>
        <source>Bonus taken back: %1</source>
        <translation>扣回赠送：%1</translation>
    </message>
    <message>
        <source>Freeze</source>
        <translation>冻结</translation>
    </message>
    <message>
        <source>Unfreeze</source>
        <translation>解冻</translation>
    </message>
    <message>
        <source>Reason:</source>
        <translation>原因：</translation>
    </message>
    <message>
        <source>Freeze the stored value?</source>
        <translation>确认冻结储值账户？</translation>
    </message>
    <message>
        <source>Balance %1 can no longer be paid with until a manager unfreezes it.</source>
        <translation>余额 %1 将不能用于支付，直到店长解冻。</translation>
    </message>
    <message>
        <source>Unfreeze the stored value?</source>
        <translation>确认解冻储值账户？</translation>
    </message>
    <message>
        <source>Balance %1 can be paid with again.</source>
        <translation>余额 %1 将可以再次用于支付。</translation>
    </message>
    <message>
        <source>Reason: %1</source>
        <translation>原因：%1</translation>
    </message>
    <message>
        <source>Member PIN</source>
        <translation>会员支付密码</translation>
    </message>
    <message>
        <source>The member types a new 6-digit PIN:</source>
        <translation>请会员输入新的 6 位支付密码：</translation>
    </message>
    <message>
        <source>The member types it again:</source>
        <translation>请会员再输入一次：</translation>
    </message>
    <message>
        <source>The two PINs differ; nothing was changed.</source>
        <translation>两次输入的密码不一致，未做任何更改。</translation>
    </message>
    <message>
        <source>The member&apos;s payment PIN is set.</source>
        <translation>会员支付密码已设置。</translation>
    </message>
    <message>
        <source>The member scans this QR code with an authenticator app, then shows its 6-digit code when paying.</source>
        <translation>请会员用身份验证器 App 扫描此二维码，支付时出示 6 位动态码。</translation>
    </message>
</context>
<context>
    <name>LoginWindow</name>
    <message>
        <source>POS Member — log in</source>
        <translation>会员收银 — 登录</translation>
    </message>
    <message>
        <source>POS Member</source>
        <translation>会员收银</translation>
    </message>
    <message>
        <source>&amp;Staff number</source>
        <translation>工号(&amp;S)</translation>
    </message>
    <message>
        <source>&amp;PIN</source>
        <translation>密码(&amp;P)</translation>
    </message>
    <message>
        <source>&amp;Language</source>
        <translation>语言(&amp;L)</translation>
    </message>
    <message>
        <source>e.g. 1001</source>
        <translation>例如 1001</translation>
    </message>
    <message>
        <source>personal PIN or password</source>
        <translation>个人 PIN 或密码</translation>
    </message>
    <message>
        <source>Log in (Enter)</source>
        <translation>登录 (Enter)</translation>
    </message>
    <message>
        <source>Opening the till…</source>
        <translation>正在打开收银台…</translation>
    </message>
    <message>
        <source>Enter your staff number and PIN.</source>
        <translation>请输入工号和密码。</translation>
    </message>
    <message>
        <source>Unexpected error: %1</source>
        <translation>意外错误：%1</translation>
    </message>
</context>
<context>
    <name>ManagerActionDialog</name>
    <message>
        <source>&amp;Reason</source>
        <translation>原因(&amp;R)</translation>
    </message>
    <message>
        <source>&amp;Manager&apos;s staff number</source>
        <translation>店长工号(&amp;M)</translation>
    </message>
    <message>
        <source>Manager&apos;s &amp;PIN</source>
        <translation>店长 PIN(&amp;P)</translation>
    </message>
    <message>
        <source>Check (Enter)</source>
        <translation>核对 (Enter)</translation>
    </message>
</context>
<context>
    <name>MemberPickDialog</name>
    <message>
        <source>Members matching “%1”</source>
        <translation>符合“%1”的会员</translation>
    </message>
    <message>
        <source>Ask the customer which one is theirs: ↑/↓ to choose, Enter to show the card.</source>
        <translation>请顾客确认是哪一位：↑/↓ 选择，Enter 显示会员卡。</translation>
    </message>
    <message>
        <source>Name</source>
        <translation>姓名</translation>
    </message>
    <message>
        <source>Phone</source>
        <translation>手机号</translation>
    </message>
    <message>
        <source>Member number</source>
        <translation>会员号</translation>
    </message>
    <message>
        <source>Tier</source>
        <translation>等级</translation>
    </message>
    <message>
        <source>Show card (Enter)</source>
        <translation>显示会员卡 (Enter)</translation>
    </message>
</context>
<context>
    <name>MemberServiceDialog</name>
    <message>
        <source>Member service: %1 (Ctrl+M)</source>
        <translation>会员服务：%1（Ctrl+M）</translation>
    </message>
    <message>
        <source>Normal</source>
        <translation>正常</translation>
    </message>
    <message>
        <source>Frozen</source>
        <translation>冻结</translation>
    </message>
    <message>
        <source>Blacklisted</source>
        <translation>黑名单</translation>
    </message>
    <message>
        <source>Status</source>
        <translation>状态</translation>
    </message>
    <message>
        <source>&amp;Status</source>
        <translation>状态(&amp;S)</translation>
    </message>
    <message>
        <source>&amp;Reason</source>
        <translation>原因(&amp;R)</translation>
    </message>
    <message>
        <source>Tier</source>
        <translation>等级</translation>
    </message>
    <message>
        <source>&amp;Tier</source>
        <translation>等级(&amp;T)</translation>
    </message>
    <message>
        <source>&amp;Until</source>
        <translation>截止日期(&amp;U)</translation>
    </message>
    <message>
        <source>Lost card</source>
        <translation>挂失补卡</translation>
    </message>
    <message>
        <source>Send a code to the new phone</source>
        <translation>向新手机发送验证码</translation>
    </message>
    <message>
        <source>Phone</source>
        <translation>手机号</translation>
    </message>
    <message>
        <source>&amp;New phone</source>
        <translation>新手机号(&amp;N)</translation>
    </message>
    <message>
        <source>SMS &amp;code</source>
        <translation>短信验证码(&amp;C)</translation>
    </message>
    <message>
        <source>Offline: member&apos;s PIN or dynamic code</source>
        <translation>离线：会员支付密码或动态码</translation>
    </message>
    <message>
        <source>Manager&apos;s staff number</source>
        <translation>店长工号</translation>
    </message>
    <message>
        <source>Manager&apos;s PIN</source>
        <translation>店长密码</translation>
    </message>
    <message>
        <source>Erasing removes the phone, name, birthday, gender and tags at every till and at head office. Purchases and ledgers stay, under the member number. The stored-value balance must be 0 first, at this till and at head office: the till must be online. This cannot be undone.</source>
        <translation>删除会在所有收银台和总部移除手机号、姓名、生日、性别和标签。消费记录和流水保留在会员号下。须先将储值余额清零（本收银台和总部均为 0），且收银台须联网。此操作无法撤销。</translation>
    </message>
    <message>
        <source>Withdraw marketing consent</source>
        <translation>撤回营销授权</translation>
    </message>
    <message>
        <source>Privacy</source>
        <translation>隐私</translation>
    </message>
    <message>
        <source>Check (Enter)</source>
        <translation>核对（Enter）</translation>
    </message>
    <message>
        <source>Change the status of %1?</source>
        <translation>更改会员 %1 的状态？</translation>
    </message>
    <message>
        <source>Status: %1 → %2</source>
        <translation>状态：%1 → %2</translation>
    </message>
    <message>
        <source>Reason: %1</source>
        <translation>原因：%1</translation>
    </message>
    <message>
        <source>Change status</source>
        <translation>更改状态</translation>
    </message>
    <message>
        <source>Set the tier of %1 by hand?</source>
        <translation>手动设定会员 %1 的等级？</translation>
    </message>
    <message>
        <source>Tier: %1 until %2</source>
        <translation>等级：%1，至 %2</translation>
    </message>
    <message>
        <source>Set tier</source>
        <translation>设定等级</translation>
    </message>
    <message>
        <source>Re-issue the card of %1?</source>
        <translation>为会员 %1 补办会员卡？</translation>
    </message>
    <message>
        <source>The old card stops working at every till once synced.</source>
        <translation>同步后，旧卡在所有收银台均无法使用。</translation>
    </message>
    <message>
        <source>Card: %1 → %2</source>
        <translation>卡号版本：%1 → %2</translation>
    </message>
    <message>
        <source>Re-issue</source>
        <translation>补卡</translation>
    </message>
    <message>
        <source>Change the phone of %1?</source>
        <translation>更换会员 %1 的手机号？</translation>
    </message>
    <message>
        <source>Phone: %1 → %2</source>
        <translation>手机号：%1 → %2</translation>
    </message>
    <message>
        <source>The old phone will find no one at any till.</source>
        <translation>旧手机号在任何收银台都将查不到该会员。</translation>
    </message>
    <message>
        <source>Change phone</source>
        <translation>更换手机号</translation>
    </message>
    <message>
        <source>Erase the personal data of %1?</source>
        <translation>删除会员 %1 的个人信息？</translation>
    </message>
    <message>
        <source>Phone, name, birthday, gender and tags are removed for good.</source>
        <translation>手机号、姓名、生日、性别和标签将被永久删除。</translation>
    </message>
    <message>
        <source>Points left are forfeited; stored value must be 0 here and at head office.</source>
        <translation>剩余积分作废；本收银台和总部的储值余额均须为 0。</translation>
    </message>
    <message>
        <source>Erase</source>
        <translation>删除</translation>
    </message>
    <message>
        <source>A code was sent to the new phone.</source>
        <translation>验证码已发送到新手机。</translation>
    </message>
</context>
<context>
    <name>PayDialog</name>
    <message>
        <source>Pay with stored value (F10)</source>
        <translation>储值支付（F10）</translation>
    </message>
    <message>
        <source>PIN (Ctrl+1)</source>
        <translation>支付密码（Ctrl+1）</translation>
    </message>
    <message>
        <source>Dynamic code (Ctrl+2)</source>
        <translation>动态码（Ctrl+2）</translation>
    </message>
    <message>
        <source>SMS code (Ctrl+3)</source>
        <translation>短信验证码（Ctrl+3）</translation>
    </message>
    <message>
        <source>Needs the connection to head office</source>
        <translation>需要连接总部</translation>
    </message>
    <message>
        <source>Send SMS code (F4)</source>
        <translation>发送验证码（F4）</translation>
    </message>
    <message>
        <source>&amp;Amount (¥):</source>
        <translation>金额(&amp;A)（元）：</translation>
    </message>
    <message>
        <source>Balance:</source>
        <translation>余额：</translation>
    </message>
    <message>
        <source>Paid from:</source>
        <translation>扣款构成：</translation>
    </message>
    <message>
        <source>Verify by:</source>
        <translation>验证方式：</translation>
    </message>
    <message>
        <source>Pay (Enter)</source>
        <translation>支付（Enter）</translation>
    </message>
    <message>
        <source>No dynamic code set up for this member.</source>
        <translation>该会员未开通动态码。</translation>
    </message>
    <message>
        <source>SMS code: only while the till is connected to head office.</source>
        <translation>短信验证码：仅在与总部连通时可用。</translation>
    </message>
    <message>
        <source>SMS code: this till is not connected to head office.</source>
        <translation>短信验证码：本收银台未接入总部。</translation>
    </message>
    <message>
        <source>No payment PIN set.
Pay by dynamic code or SMS code, or a manager sets a PIN (Shift+F10).</source>
        <translation>会员未设置支付密码。
请用动态码或短信验证码，或请店长设置密码（Shift+F10）。</translation>
    </message>
    <message>
        <source>Offline: this member may pay at most %1 more on this till today.</source>
        <translation>离线：该会员今天在本收银台最多还可付 %1。</translation>
    </message>
    <message>
        <source>%1 (principal %2, bonus %3)</source>
        <translation>%1（本金 %2，赠送 %3）</translation>
    </message>
    <message>
        <source>FROZEN</source>
        <translation>已冻结</translation>
    </message>
    <message>
        <source>Member&apos;s P&amp;IN:</source>
        <translation>会员支付密码(&amp;I)：</translation>
    </message>
    <message>
        <source>Scan the &amp;code:</source>
        <translation>扫描动态码(&amp;C)：</translation>
    </message>
    <message>
        <source>SMS &amp;code:</source>
        <translation>短信验证码(&amp;C)：</translation>
    </message>
    <message>
        <source>principal %1 + bonus %2</source>
        <translation>本金 %1 + 赠送 %2</translation>
    </message>
    <message>
        <source>more than the balance (%1)</source>
        <translation>超出余额（%1）</translation>
    </message>
    <message>
        <source>SMS code sent to the member&apos;s phone.</source>
        <translation>验证码已发送到会员手机。</translation>
    </message>
</context>
<context>
    <name>PinForm</name>
    <message>
        <source>New PIN for %1 %2</source>
        <translation>为 %1 %2 设置新 PIN</translation>
    </message>
    <message>
        <source>New &amp;PIN or password</source>
        <translation>新 PIN 或密码(&amp;P)</translation>
    </message>
    <message>
        <source>PIN a&amp;gain</source>
        <translation>再次输入 PIN(&amp;G)</translation>
    </message>
    <message>
        <source>Set PIN</source>
        <translation>设置 PIN</translation>
    </message>
    <message>
        <source>%1 %2 has a new PIN; their lock is lifted.</source>
        <translation>%1 %2 已设置新 PIN，登录锁定已解除。</translation>
    </message>
</context>
<context>
    <name>PlanDialog</name>
    <message>
        <source>Recruitment targets and roster</source>
        <translation>招募目标与排班</translation>
    </message>
    <message>
        <source>PgUp Previous month</source>
        <translation>PgUp 上个月</translation>
    </message>
    <message>
        <source>PgDown Next month</source>
        <translation>PgDown 下个月</translation>
    </message>
    <message>
        <source>e.g. 300</source>
        <translation>例如 300</translation>
    </message>
    <message>
        <source>Save &amp;target</source>
        <translation>保存目标(&amp;T)</translation>
    </message>
    <message>
        <source>New-member target for the &amp;month:</source>
        <translation>本月新会员目标(&amp;M)：</translation>
    </message>
    <message>
        <source>Roster: tick who is on shift (Space); the header shows each day&apos;s target. Rows of numbers are each guide&apos;s share.</source>
        <translation>排班：勾选当班导购（空格键）；表头显示每天的目标，格中数字为每位导购分到的目标。</translation>
    </message>
    <message>
        <source>Save &amp;roster</source>
        <translation>保存排班(&amp;R)</translation>
    </message>
    <message>
        <source>&amp;Adjust the selected day&apos;s split…</source>
        <translation>调整所选日期的分配(&amp;A)…</translation>
    </message>
    <message>
        <source>Esc Close</source>
        <translation>Esc 关闭</translation>
    </message>
    <message>
        <source>Month %1</source>
        <translation>%1 月度计划</translation>
    </message>
    <message>
        <source>Adjusted by hand</source>
        <translation>已手动调整</translation>
    </message>
    <message>
        <source>Unexpected error (%1); nothing was changed.</source>
        <translation>意外错误（%1），未做任何更改。</translation>
    </message>
    <message>
        <source>Select a day in the roster first.</source>
        <translation>请先在排班表中选择一天。</translation>
    </message>
    <message>
        <source>Split of %1</source>
        <translation>%1 的目标分配</translation>
    </message>
    <message>
        <source>&amp;Save split</source>
        <translation>保存分配(&amp;S)</translation>
    </message>
    <message>
        <source>Esc Cancel</source>
        <translation>Esc 取消</translation>
    </message>
    <message>
        <source>Total %1 of the day&apos;s %2</source>
        <translation>合计 %1，当日目标 %2</translation>
    </message>
</context>
<context>
    <name>PointsView</name>
    <message>
        <source>tier</source>
        <translation>等级</translation>
    </message>
    <message>
        <source>member day</source>
        <translation>会员日</translation>
    </message>
    <message>
        <source>birthday month</source>
        <translation>生日月</translation>
    </message>
    <message>
        <source>Bill %1</source>
        <translation>小票 %1</translation>
    </message>
    <message>
        <source>Amount: %1</source>
        <translation>金额：%1</translation>
    </message>
    <message>
        <source>Points used: %1 (−%2)</source>
        <translation>使用积分：%1（抵 %2）</translation>
    </message>
    <message>
        <source>Paid: %1</source>
        <translation>实付：%1</translation>
    </message>
    <message>
        <source>Not earned (daily cap of the member reached): %1</source>
        <translation>未获得积分（已达会员每日上限）：%1</translation>
    </message>
    <message>
        <source>%1 for the purchase</source>
        <translation>消费积分 %1</translation>
    </message>
    <message>
        <source>%1 %2×</source>
        <translation>%1 %2 倍</translation>
    </message>
    <message>
        <source>big-purchase bonus +%1</source>
        <translation>大额奖励 +%1</translation>
    </message>
    <message>
        <source>Points earned: %1 (%2)</source>
        <translation>本单积分：%1（%2）</translation>
    </message>
    <message>
        <source>Points balance: %1</source>
        <translation>积分余额：%1</translation>
    </message>
    <message>
        <source>Upgraded to %1!</source>
        <translation>已升级为%1！</translation>
    </message>
    <message>
        <source>Refunded %1 on bill %2</source>
        <translation>小票 %2 已退款 %1</translation>
    </message>
    <message>
        <source>Points taken back: %1 · returned: %2</source>
        <translation>扣回积分：%1 · 退还积分：%2</translation>
    </message>
    <message>
        <source>The balance is below zero: the manager has been alerted.</source>
        <translation>积分余额为负，已提醒店长。</translation>
    </message>
    <message>
        <source>Bill %1: %2, refunded before: %3</source>
        <translation>小票 %1：%2，此前已退 %3</translation>
    </message>
    <message>
        <source>Money back to the customer: %1</source>
        <translation>退给顾客：%1</translation>
    </message>
    <message>
        <source>Points balance: %1 → %2</source>
        <translation>积分余额：%1 → %2</translation>
    </message>
    <message>
        <source> (%1 pending)</source>
        <translation>（%1 分待生效）</translation>
    </message>
    <message>
        <source>Points × %1</source>
        <translation>积分 × %1</translation>
    </message>
    <message>
        <source> · Member day today: %2/10 of the price (%1%)</source>
        <translation> · 今天会员日：%2折（%1%）</translation>
    </message>
    <message>
        <source> · Member day (day %3): %2/10 of the price (%1%)</source>
        <translation> · 会员日（每月%3日）：%2折（%1%）</translation>
    </message>
</context>
<context>
    <name>ProfileDialog</name>
    <message>
        <source>Edit member %1 (F6)</source>
        <translation>编辑会员 %1 (F6)</translation>
    </message>
    <message>
        <source>&amp;Name</source>
        <translation>姓名(&amp;N)</translation>
    </message>
    <message>
        <source>Gen&amp;der</source>
        <translation>性别(&amp;D)</translation>
    </message>
    <message>
        <source>&amp;Birthday</source>
        <translation>生日(&amp;B)</translation>
    </message>
    <message>
        <source>&amp;Tags</source>
        <translation>标签(&amp;T)</translation>
    </message>
    <message>
        <source>Marketing</source>
        <translation>营销消息</translation>
    </message>
    <message>
        <source>Blank name or birthday fields keep what is stored.</source>
        <translation>姓名、生日留空表示保持原值不变。</translation>
    </message>
    <message>
        <source>Agrees to receive &amp;marketing messages</source>
        <translation>同意接收营销消息(&amp;M)</translation>
    </message>
    <message>
        <source>e.g. 1990-03-14</source>
        <translation>例如 1990-03-14</translation>
    </message>
    <message>
        <source>separated by commas</source>
        <translation>用逗号分隔</translation>
    </message>
    <message>
        <source>Unexpected error: nothing was saved.</source>
        <translation>意外错误：未保存任何内容。</translation>
    </message>
</context>
<context>
    <name>PurchasesDialog</name>
    <message>
        <source>Purchases of %1 (Ctrl+H)</source>
        <translation>%1 的消费记录 (Ctrl+H)</translation>
    </message>
    <message>
        <source>When</source>
        <translation>时间</translation>
    </message>
    <message>
        <source>Bill</source>
        <translation>小票号</translation>
    </message>
    <message>
        <source>Amount</source>
        <translation>金额</translation>
    </message>
    <message>
        <source>Points used</source>
        <translation>抵扣积分</translation>
    </message>
    <message>
        <source>Paid</source>
        <translation>实付</translation>
    </message>
    <message>
        <source>Paid by</source>
        <translation>支付方式</translation>
    </message>
    <message>
        <source>Points earned</source>
        <translation>获得积分</translation>
    </message>
    <message>
        <source>Refunded</source>
        <translation>已退</translation>
    </message>
    <message>
        <source>No purchases yet.</source>
        <translation>暂无消费记录。</translation>
    </message>
</context>
<context>
    <name>RecallDialog</name>
    <message>
        <source>Recall list (Ctrl+Shift+F11)</source>
        <translation>召回名单 (Ctrl+Shift+F11)</translation>
    </message>
    <message>
        <source>召回名单: members away for a while</source>
        <translation>召回名单：久未到店的会员</translation>
    </message>
    <message>
        <source>召回名单</source>
        <translation>召回名单</translation>
    </message>
    <message>
        <source>召回率 (F5)</source>
        <translation>召回率 (F5)</translation>
    </message>
    <message>
        <source>F2 Most valuable first</source>
        <translation>F2 按消费额排序</translation>
    </message>
    <message>
        <source>F3 Longest away first</source>
        <translation>F3 按未到店天数排序</translation>
    </message>
    <message>
        <source>F4 Send to the selected</source>
        <translation>F4 发券给所选会员</translation>
    </message>
    <message>
        <source>F5 召回率</source>
        <translation>F5 召回率</translation>
    </message>
    <message>
        <source>Ctrl+E Export (.xlsx)</source>
        <translation>Ctrl+E 导出 (.xlsx)</translation>
    </message>
    <message>
        <source>Esc Close</source>
        <translation>Esc 关闭</translation>
    </message>
    <message>
        <source>Loading…</source>
        <translation>正在加载…</translation>
    </message>
    <message>
        <source>%1 members</source>
        <translation>%1 位会员</translation>
    </message>
    <message>
        <source>Select the members first (click, Shift or Ctrl+click, Ctrl+A).</source>
        <translation>请先选择会员（单击、Shift 或 Ctrl+单击、Ctrl+A）。</translation>
    </message>
    <message>
        <source>Members: %1</source>
        <translation>会员：%1 人</translation>
    </message>
    <message>
        <source>Coupon: %1</source>
        <translation>优惠券：%1</translation>
    </message>
    <message>
        <source>Face value in all: %1</source>
        <translation>面值合计：%1</translation>
    </message>
    <message>
        <source>Sending…</source>
        <translation>正在发券…</translation>
    </message>
    <message>
        <source>Send a win-back coupon to %1 members?</source>
        <translation>给 %1 位会员发回归券？</translation>
    </message>
    <message>
        <source>Send</source>
        <translation>发券</translation>
    </message>
    <message>
        <source>(their own)</source>
        <translation>（各自的）</translation>
    </message>
    <message>
        <source>Text: %1</source>
        <translation>内容：%1</translation>
    </message>
    <message>
        <source>Send a message to %1 members?</source>
        <translation>向 %1 位会员发送短信？</translation>
    </message>
    <message>
        <source>Send the message</source>
        <translation>发送短信</translation>
    </message>
    <message>
        <source>Only members who agreed to marketing get it,
at most the day&apos;s marketing messages each.</source>
        <translation>仅同意接收营销消息的会员会收到，
每人不超过当日营销消息上限。</translation>
    </message>
    <message>
        <source>Sent %1 messages; %2 members passed over (no marketing consent, today&apos;s limit, barred).</source>
        <translation>已发送 %1 条短信；%2 位会员未发送（未同意营销、已达当日上限或受限）。</translation>
    </message>
    <message>
        <source>Sent %1 coupons; %2 members passed over.</source>
        <translation>已发 %1 张券；跳过 %2 位会员。</translation>
    </message>
    <message>
        <source>Could not load (%1).</source>
        <translation>无法加载（%1）。</translation>
    </message>
    <message>
        <source>Saved: %1</source>
        <translation>已保存：%1</translation>
    </message>
</context>
<context>
    <name>RefundDialog</name>
    <message>
        <source>Refund (Shift+F4)</source>
        <translation>退货 (Shift+F4)</translation>
    </message>
    <message>
        <source>empty = everything left on the bill</source>
        <translation>留空 = 退还小票剩余全部金额</translation>
    </message>
    <message>
        <source>empty if you are the manager</source>
        <translation>您是店长则留空</translation>
    </message>
    <message>
        <source>&amp;Bill number</source>
        <translation>小票号(&amp;B)</translation>
    </message>
    <message>
        <source>&amp;Amount (¥)</source>
        <translation>金额 ¥(&amp;A)</translation>
    </message>
    <message>
        <source>&amp;Manager&apos;s staff number</source>
        <translation>店长工号(&amp;M)</translation>
    </message>
    <message>
        <source>Manager&apos;s &amp;PIN</source>
        <translation>店长 PIN(&amp;P)</translation>
    </message>
    <message>
        <source>Check refund (Enter)</source>
        <translation>核对退货 (Enter)</translation>
    </message>
    <message>
        <source>When</source>
        <translation>时间</translation>
    </message>
    <message>
        <source>Bill</source>
        <translation>小票号</translation>
    </message>
    <message>
        <source>Paid</source>
        <translation>实付</translation>
    </message>
    <message>
        <source>Can be refunded</source>
        <translation>可退金额</translation>
    </message>
    <message>
        <source>Paid by</source>
        <translation>支付方式</translation>
    </message>
    <message>
        <source>Lines of this bill: Space checks a line; the checked lines are refunded (what is left of each; with an amount, that part of the one checked line).</source>
        <translation>本小票的商品行：空格键勾选一行；勾选的行按各行剩余金额退款（填写了金额时，退所勾选那一行的这部分金额）。</translation>
    </message>
    <message>
        <source>The member&apos;s recent bills: ↓ from the bill number to pick one, or type it.</source>
        <translation>会员最近的小票：在小票号栏按 ↓ 选择，或直接输入小票号。</translation>
    </message>
    <message>
        <source>Line</source>
        <translation>行</translation>
    </message>
    <message>
        <source>Category</source>
        <translation>品类</translation>
    </message>
    <message>
        <source>Sold</source>
        <translation>售出</translation>
    </message>
    <message>
        <source>Left to refund</source>
        <translation>可退金额</translation>
    </message>
    <message>
        <source>An amount refunds part of one line: check one line, or empty the amount.</source>
        <translation>填写金额时只退一行中的一部分：请只勾选一行，或清空金额。</translation>
    </message>
    <message>
        <source>Given back as: %1</source>
        <translation>退回方式：%1</translation>
    </message>
    <message>
        <source>Refund on bill %1?</source>
        <translation>确认小票 %1 退货？</translation>
    </message>
    <message>
        <source>Refund</source>
        <translation>确认退货</translation>
    </message>
    <message>
        <source>Stored value now: %1</source>
        <translation>储值余额：%1</translation>
    </message>
    <message>
        <source>Done (Enter)</source>
        <translation>完成 (Enter)</translation>
    </message>
</context>
<context>
    <name>RegisterDialog</name>
    <message>
        <source>Register member (F2)</source>
        <translation>注册会员 (F2)</translation>
    </message>
    <message>
        <source>&amp;Phone *</source>
        <translation>手机号(&amp;P) *</translation>
    </message>
    <message>
        <source>Privacy *</source>
        <translation>隐私政策 *</translation>
    </message>
    <message>
        <source>Marketing</source>
        <translation>营销消息</translation>
    </message>
    <message>
        <source>&amp;Guide</source>
        <translation>招募导购(&amp;G)</translation>
    </message>
    <message>
        <source>&amp;Source</source>
        <translation>来源渠道(&amp;S)</translation>
    </message>
    <message>
        <source>&amp;Name</source>
        <translation>姓名(&amp;N)</translation>
    </message>
    <message>
        <source>Gen&amp;der</source>
        <translation>性别(&amp;D)</translation>
    </message>
    <message>
        <source>&amp;Birthday</source>
        <translation>生日(&amp;B)</translation>
    </message>
    <message>
        <source>&amp;Tags</source>
        <translation>标签(&amp;T)</translation>
    </message>
    <message>
        <source>&amp;Referrer</source>
        <translation>推荐人(&amp;R)</translation>
    </message>
    <message>
        <source>11-digit mobile number</source>
        <translation>11 位手机号</translation>
    </message>
    <message>
        <source>Member &amp;agrees to the privacy policy (version %1)</source>
        <translation>会员已阅读并同意隐私政策（版本 %1）(&amp;A)</translation>
    </message>
    <message>
        <source>Member agrees to receive &amp;marketing messages (optional)</source>
        <translation>会员同意接收营销消息（可选）(&amp;M)</translation>
    </message>
    <message>
        <source>optional</source>
        <translation>选填</translation>
    </message>
    <message>
        <source>optional, e.g. 1990-03-14</source>
        <translation>选填，例如 1990-03-14</translation>
    </message>
    <message>
        <source>optional, separated by commas</source>
        <translation>选填，用逗号分隔</translation>
    </message>
    <message>
        <source>referring member&apos;s number or phone (referral)</source>
        <translation>推荐人的会员号或手机号（老带新）</translation>
    </message>
    <message>
        <source>Register (Enter)</source>
        <translation>注册 (Enter)</translation>
    </message>
    <message>
        <source>&amp;Open existing member</source>
        <translation>打开该会员(&amp;O)</translation>
    </message>
    <message>
        <source>Unexpected error: the registration was not saved.</source>
        <translation>意外错误：注册未保存。</translation>
    </message>
</context>
<context>
    <name>RemoteMember</name>
    <message>
        <source>head office, now</source>
        <translation>总部实时</translation>
    </message>
    <message>
        <source>head office, as of %1</source>
        <translation>总部数据，截至 %1</translation>
    </message>
</context>
<context>
    <name>SaleDialog</name>
    <message>
        <source>Member %1 · %2</source>
        <translation>会员 %1 · %2</translation>
    </message>
    <message>
        <source>Walk-in customer (no member)</source>
        <translation>散客（非会员）</translation>
    </message>
    <message>
        <source>optional, separated by commas</source>
        <translation>可选，用逗号分隔</translation>
    </message>
    <message>
        <source>&amp;Bill number</source>
        <translation>小票号(&amp;B)</translation>
    </message>
    <message>
        <source>&amp;Amount (¥)</source>
        <translation>金额 ¥(&amp;A)</translation>
    </message>
    <message>
        <source>&amp;Guide</source>
        <translation>导购(&amp;G)</translation>
    </message>
    <message>
        <source>&amp;Categories</source>
        <translation>品类(&amp;C)</translation>
    </message>
    <message>
        <source>&amp;Redeem points</source>
        <translation>积分抵扣(&amp;R)</translation>
    </message>
    <message>
        <source>scan or type the member&apos;s coupons</source>
        <translation>扫描或输入会员的优惠券</translation>
    </message>
    <message>
        <source>C&amp;oupons</source>
        <translation>优惠券(&amp;O)</translation>
    </message>
    <message>
        <source>Type the amount paid from stored value first.</source>
        <translation>请先输入储值支付金额。</translation>
    </message>
    <message>
        <source>SMS code sent to the member&apos;s phone.</source>
        <translation>验证码已发送到会员手机。</translation>
    </message>
    <message>
        <source>At most %1 points: half the bill is %2 points, the member can spend %3</source>
        <translation>最多可用 %1 积分：账单一半为 %2 积分，会员可用 %3</translation>
    </message>
    <message>
        <source>Coupons: -%1</source>
        <translation>优惠券：-%1</translation>
    </message>
    <message>
        <source>Type the points as a whole number.</source>
        <translation>积分请输入整数。</translation>
    </message>
    <message>
        <source>half the bill is %1 points</source>
        <translation>账单一半为 %1 积分</translation>
    </message>
    <message>
        <source>the member can spend %1</source>
        <translation>会员可用积分为 %1</translation>
    </message>
    <message>
        <source>%1 points cannot be redeemed: at most %2 on this bill (%3).</source>
        <translation>不能抵扣 %1 积分：本单最多 %2（%3）。</translation>
    </message>
    <message>
        <source>Points are redeemed in steps of %1.</source>
        <translation>积分须按 %1 的整数倍抵扣。</translation>
    </message>
    <message>
        <source>To pay: %1</source>
        <translation>应付：%1</translation>
    </message>
    <message>
        <source>Checkout (F4)</source>
        <translation>收银结账 (F4)</translation>
    </message>
    <message>
        <source>Pay (Enter)</source>
        <translation>收款 (Enter)</translation>
    </message>
    <message>
        <source>Coupon %1: -%2</source>
        <translation>优惠券 %1：-%2</translation>
    </message>
    <message>
        <source>Paid by: %1</source>
        <translation>支付方式：%1</translation>
    </message>
    <message>
        <source>Stored value left: %1</source>
        <translation>储值余额：%1</translation>
    </message>
    <message>
        <source>Done (Enter)</source>
        <translation>完成 (Enter)</translation>
    </message>
</context>
<context>
    <name>ScanImage</name>
    <message>
        <source>Decode a code from a picture</source>
        <translation>从图片识别码</translation>
    </message>
    <message>
        <source>Pictures (%1)</source>
        <translation>图片 (%1)</translation>
    </message>
</context>
<context>
    <name>StaffDialog</name>
    <message>
        <source>Number clash: give a new number</source>
        <translation>工号冲突：请分配新工号</translation>
    </message>
    <message>
        <source>Inactive</source>
        <translation>已停用</translation>
    </message>
    <message>
        <source>Active, locked (wrong PINs)</source>
        <translation>启用，已锁定（PIN 错误次数过多）</translation>
    </message>
    <message>
        <source>Active</source>
        <translation>启用</translation>
    </message>
    <message>
        <source>Staff (Ctrl+U)</source>
        <translation>员工管理 (Ctrl+U)</translation>
    </message>
    <message>
        <source>No.</source>
        <translation>工号</translation>
    </message>
    <message>
        <source>Name</source>
        <translation>姓名</translation>
    </message>
    <message>
        <source>Role</source>
        <translation>角色</translation>
    </message>
    <message>
        <source>Status</source>
        <translation>状态</translation>
    </message>
    <message>
        <source>&amp;Add… (Ins)</source>
        <translation>新增(&amp;A)… (Ins)</translation>
    </message>
    <message>
        <source>&amp;Edit… (Enter)</source>
        <translation>编辑(&amp;E)… (Enter)</translation>
    </message>
    <message>
        <source>&amp;Deactivate (Ctrl+D)</source>
        <translation>停用(&amp;D) (Ctrl+D)</translation>
    </message>
    <message>
        <source>New &amp;PIN… (Ctrl+P)</source>
        <translation>重设 PIN(&amp;P)… (Ctrl+P)</translation>
    </message>
    <message>
        <source>Reac&amp;tivate (Ctrl+D)</source>
        <translation>重新启用(&amp;T) (Ctrl+D)</translation>
    </message>
    <message>
        <source>%1 %2 is active again.</source>
        <translation>%1 %2 已重新启用。</translation>
    </message>
    <message>
        <source>%1 %2 is deactivated: they can no longer log in.</source>
        <translation>%1 %2 已停用，无法再登录。</translation>
    </message>
</context>
<context>
    <name>StaffForm</name>
    <message>
        <source>New colleague</source>
        <translation>新增员工</translation>
    </message>
    <message>
        <source>Edit colleague</source>
        <translation>编辑员工</translation>
    </message>
    <message>
        <source>Staff &amp;number (3–8 digits)</source>
        <translation>工号(&amp;N)（3–8 位数字）</translation>
    </message>
    <message>
        <source>N&amp;ame</source>
        <translation>姓名(&amp;A)</translation>
    </message>
    <message>
        <source>&amp;Role</source>
        <translation>角色(&amp;R)</translation>
    </message>
    <message>
        <source>&amp;PIN or password</source>
        <translation>PIN 或密码(&amp;P)</translation>
    </message>
    <message>
        <source>PIN a&amp;gain</source>
        <translation>再次输入 PIN(&amp;G)</translation>
    </message>
    <message>
        <source>Managers and administrators approve payments with their PIN: no easy patterns.</source>
        <translation>店长和管理员用 PIN 审批支付：不可使用简单规律。</translation>
    </message>
    <message>
        <source>Save</source>
        <translation>保存</translation>
    </message>
    <message>
        <source>%1 %2 added: they can log in now.</source>
        <translation>已新增 %1 %2，现在可以登录。</translation>
    </message>
    <message>
        <source>%1 %2 saved.</source>
        <translation>%1 %2 已保存。</translation>
    </message>
</context>
<context>
    <name>StoredValue</name>
    <message>
        <source>Top-up</source>
        <translation>充值</translation>
    </message>
    <message>
        <source>Payment</source>
        <translation>消费</translation>
    </message>
    <message>
        <source>Payment refund</source>
        <translation>消费退款</translation>
    </message>
    <message>
        <source>Top-up refund</source>
        <translation>充值退款</translation>
    </message>
    <message>
        <source>Cash</source>
        <translation>现金</translation>
    </message>
    <message>
        <source>Bank card</source>
        <translation>银行卡</translation>
    </message>
    <message>
        <source>Third-party payment</source>
        <translation>第三方支付</translation>
    </message>
    <message>
        <source>Payment PIN</source>
        <translation>支付密码</translation>
    </message>
    <message>
        <source>Dynamic code</source>
        <translation>动态码</translation>
    </message>
    <message>
        <source>SMS code</source>
        <translation>短信验证码</translation>
    </message>
    <message>
        <source>(frozen)</source>
        <translation>（已冻结）</translation>
    </message>
    <message>
        <source>(blocked by HQ)</source>
        <translation>（总部已停用余额支付）</translation>
    </message>
    <message>
        <source>principal %1 · bonus %2</source>
        <translation>本金 %1 · 赠送 %2</translation>
    </message>
    <message>
        <source>Scan a member first.</source>
        <translation>请先扫描会员。</translation>
    </message>
    <message>
        <source>Topped up %1 (bonus %2). Balance %3.</source>
        <translation>已充值 %1（赠送 %2），余额 %3。</translation>
    </message>
    <message>
        <source>Paid %1 (principal %2, bonus %3). Balance %4.</source>
        <translation>已支付 %1（本金 %2，赠送 %3），余额 %4。</translation>
    </message>
    <message>
        <source>Done. Balance %3.</source>
        <translation>完成，余额 %3。</translation>
    </message>
</context>
<context>
    <name>StoredValueDialog</name>
    <message>
        <source>Unexpected error (%1); nothing was changed.</source>
        <translation>意外错误（%1），未做任何更改。</translation>
    </message>
    <message>
        <source>manager&apos;s staff number</source>
        <translation>店长工号</translation>
    </message>
    <message>
        <source>manager&apos;s PIN</source>
        <translation>店长密码</translation>
    </message>
    <message>
        <source>Manager &amp;approval:</source>
        <translation>店长授权(&amp;A)：</translation>
    </message>
</context>
<context>
    <name>SyncView</name>
    <message>
        <source>%1 from head office held</source>
        <translation>总部变更 %1 条暂存</translation>
    </message>
    <message>
        <source>%1 change(s) from head office cannot be applied on this till (a newer version wrote them, or they are damaged). They are kept and tried again after every update of this program; the day does not close clean meanwhile.</source>
        <translation>总部的 %1 条变更无法在本机应用（由更新的版本写入，或数据损坏）。这些变更已保留，本程序每次更新后会重试；在此期间日结不算完成。</translation>
    </message>
    <message>
        <source>Not enrolled with head office</source>
        <translation>未注册到总部</translation>
    </message>
    <message>
        <source>This till does not sync: it has no server.</source>
        <translation>本收银台未连接总部服务器，不同步。</translation>
    </message>
    <message>
        <source>Head office refused this till&apos;s device token: it was revoked, or the till was enrolled again elsewhere. Nothing is lost: events wait here until head office reinstates the till or it is enrolled again in its own data folder. Next check: %1.</source>
        <translation>总部拒绝了本收银台的设备令牌：令牌已被撤销，或本机已在别处重新登记。数据不会丢失：事件保存在本机，待总部恢复本机或在本机原数据目录中重新登记后上传。下次检查：%1。</translation>
    </message>
    <message>
        <source>This till&apos;s access was revoked — ask head office to enrol it again · %1 to upload</source>
        <translation>本收银台的访问权限已被撤销——请联系总部重新登记 · %1 条待上传</translation>
    </message>
    <message>
        <source>Sync: connecting… · %1 to upload</source>
        <translation>同步：连接中… · 待上传 %1 条</translation>
    </message>
    <message>
        <source>Sync: online · %1 to upload · last %2</source>
        <translation>同步：在线 · 待上传 %1 条 · 上次 %2</translation>
    </message>
    <message>
        <source>Offline, %1 to upload (next retry %2)</source>
        <translation>离线，%1 条待上传（下次重试 %2）</translation>
    </message>
    <message>
        <source>now till %1 (was till %2): its data were restored or copied; %3 unsent events go under the new number, %4 member numbers changed (members told by SMS). Nothing was lost.</source>
        <translation>本机现为 %1 号收银台（原 %2 号）：数据曾从备份恢复或被复制；%3 条未上传事件改用新编号上传，%4 个会员号已更改（已短信通知会员）。数据没有丢失。</translation>
    </message>
    <message>
        <source>Registrations</source>
        <translation>新注册会员</translation>
    </message>
    <message>
        <source>Guide %1</source>
        <translation>导购 %1</translation>
    </message>
    <message>
        <source>No guide</source>
        <translation>无导购</translation>
    </message>
    <message>
        <source>Sales</source>
        <translation>销售</translation>
    </message>
    <message>
        <source>%1 · %2</source>
        <translation>%1 · %2</translation>
    </message>
    <message>
        <source>    of which members</source>
        <translation>    其中会员</translation>
    </message>
    <message>
        <source>Refunded</source>
        <translation>已退款</translation>
    </message>
    <message>
        <source>Points earned / redeemed</source>
        <translation>积分发放 / 抵扣</translation>
    </message>
    <message>
        <source>Events written today</source>
        <translation>今日记录的事件</translation>
    </message>
    <message>
        <source>Events pushed</source>
        <translation>已上传事件</translation>
    </message>
    <message>
        <source>%1 new, %2 already stored</source>
        <translation>新上传 %1 条，总部已有 %2 条</translation>
    </message>
    <message>
        <source>Changes from other tills applied</source>
        <translation>已应用其他收银台的变更</translation>
    </message>
    <message>
        <source>Not acknowledged</source>
        <translation>总部未确认</translation>
    </message>
    <message>
        <source>Changes held, not applied</source>
        <translation>暂存未应用的变更</translation>
    </message>
    <message>
        <source>Day closed: every event is stored at head office.</source>
        <translation>日结完成：全部事件已保存到总部。</translation>
    </message>
    <message>
        <source>NOT closed: %1 event(s) not acknowledged by head office. Close the day again when the server can be reached.</source>
        <translation>日结未完成：%1 条事件总部尚未确认。请在能连接服务器时重新日结。</translation>
    </message>
    <message>
        <source>NOT closed: %1 change(s) from head office cannot be applied on this till. Update this program (they are tried again after every update) or call head office.</source>
        <translation>未日结：总部的 %1 条变更无法在本机应用。请更新本程序（每次更新后会重试）或联系总部。</translation>
    </message>
    <message>
        <source>NOT closed: the sync with head office did not finish. Close the day again when the server can be reached.</source>
        <translation>日结未完成：与总部的同步没有完成。请在能连接服务器时重新日结。</translation>
    </message>
    <message>
        <source>Day report %1 — %2</source>
        <translation>日结报表 %1 — %2</translation>
    </message>
    <message>
        <source>%1 · %2 (principal %3, bonus %4)</source>
        <translation>%1 笔 · %2（本金 %3，赠送 %4）</translation>
    </message>
    <message>
        <source>Stored-value top-ups</source>
        <translation>储值充值</translation>
    </message>
    <message>
        <source>Balance payments</source>
        <translation>储值消费</translation>
    </message>
    <message>
        <source>Balance payments refunded</source>
        <translation>储值消费退款</translation>
    </message>
    <message>
        <source>Top-ups refunded (cash back)</source>
        <translation>充值退款（退现金）</translation>
    </message>
    <message>
        <source>Pushing %1 event(s)… %2 done</source>
        <translation>上传 %1 条事件… 已完成 %2 条</translation>
    </message>
    <message>
        <source>Pulling changes… %1 received</source>
        <translation>下载变更… 已收到 %1 条</translation>
    </message>
    <message>
        <source>Preparing the report…</source>
        <translation>生成报表…</translation>
    </message>
</context>
<context>
    <name>TenderBox</name>
    <message>
        <source>manager&apos;s staff number</source>
        <translation>店长工号</translation>
    </message>
    <message>
        <source>manager&apos;s PIN</source>
        <translation>店长密码</translation>
    </message>
    <message>
        <source>Manager appr&amp;oval</source>
        <translation>店长授权(&amp;O)</translation>
    </message>
    <message>
        <source>PIN</source>
        <translation>支付密码</translation>
    </message>
    <message>
        <source>Dynamic code</source>
        <translation>动态码</translation>
    </message>
    <message>
        <source>SMS code</source>
        <translation>短信验证码</translation>
    </message>
    <message>
        <source>Send code (F6)</source>
        <translation>发送验证码 (F6)</translation>
    </message>
    <message>
        <source>Cash</source>
        <translation>现金</translation>
    </message>
    <message>
        <source>Bank card</source>
        <translation>银行卡</translation>
    </message>
    <message>
        <source>WeChat / Alipay</source>
        <translation>微信/支付宝</translation>
    </message>
    <message>
        <source>Stored &amp;value (¥)</source>
        <translation>储值支付(&amp;V)（元）</translation>
    </message>
    <message>
        <source>Member&apos;s P&amp;IN / code</source>
        <translation>会员密码/动态码(&amp;I)</translation>
    </message>
    <message>
        <source>Rest &amp;paid by</source>
        <translation>其余支付(&amp;P)</translation>
    </message>
    <message>
        <source>balance %1</source>
        <translation>余额 %1</translation>
    </message>
    <message>
        <source>FROZEN</source>
        <translation>已冻结</translation>
    </message>
    <message>
        <source>SMS code: only while the till is connected to head office.</source>
        <translation>短信验证码：仅在与总部连通时可用。</translation>
    </message>
    <message>
        <source>SMS code: this till is not connected to head office.</source>
        <translation>短信验证码：本收银台未接入总部。</translation>
    </message>
</context>
<context>
    <name>Tenders</name>
    <message>
        <source>Stored value</source>
        <translation>储值</translation>
    </message>
    <message>
        <source>Cash</source>
        <translation>现金</translation>
    </message>
    <message>
        <source>Bank card</source>
        <translation>银行卡</translation>
    </message>
    <message>
        <source>WeChat / Alipay</source>
        <translation>微信/支付宝</translation>
    </message>
    <message>
        <source>Points</source>
        <translation>积分</translation>
    </message>
    <message>
        <source>Other</source>
        <translation>其他</translation>
    </message>
</context>
<context>
    <name>TillStart</name>
    <message>
        <source>POS Member</source>
        <translation>会员收银</translation>
    </message>
</context>
<context>
    <name>TillWindow</name>
    <message>
        <source>POS Member — %1</source>
        <translation>会员收银 — %1</translation>
    </message>
    <message>
        <source>Scan or type here…</source>
        <translation>在此扫码或输入…</translation>
    </message>
    <message>
        <source>Scan the member&apos;s code to show the card

F2  Register a new member</source>
        <translation>扫描会员码即可显示会员卡

F2  注册新会员</translation>
    </message>
    <message>
        <source>F2 registers a new member with this phone.</source>
        <translation>按 F2 用这个手机号登记新会员。</translation>
    </message>
    <message>
        <source>F2 Register</source>
        <translation>F2 注册会员</translation>
    </message>
    <message>
        <source>F7 Points</source>
        <translation>F7 积分流水</translation>
    </message>
    <message>
        <source>Ctrl+G Gifts</source>
        <translation>Ctrl+G 兑换</translation>
    </message>
    <message>
        <source>Shift+F4 Refund</source>
        <translation>Shift+F4 退货</translation>
    </message>
    <message>
        <source>F4 Checkout</source>
        <translation>F4 收银</translation>
    </message>
    <message>
        <source>Ctrl+F7 Adjust points</source>
        <translation>Ctrl+F7 调整积分</translation>
    </message>
    <message>
        <source>F8 Top up</source>
        <translation>F8 充值</translation>
    </message>
    <message>
        <source>F10 Pay by balance</source>
        <translation>F10 余额支付</translation>
    </message>
    <message>
        <source>Shift+F10 Stored value</source>
        <translation>Shift+F10 储值流水</translation>
    </message>
    <message>
        <source>F5 Show full phone</source>
        <translation>F5 查看完整信息</translation>
    </message>
    <message>
        <source>F6 Edit profile</source>
        <translation>F6 编辑资料</translation>
    </message>
    <message>
        <source>Ctrl+P Print card</source>
        <translation>Ctrl+P 打印会员卡</translation>
    </message>
    <message>
        <source>F9 Alerts</source>
        <translation>F9 提醒</translation>
    </message>
    <message>
        <source>F12 Close the day</source>
        <translation>F12 日结</translation>
    </message>
    <message>
        <source>F11 Dashboard</source>
        <translation>F11 招募看板</translation>
    </message>
    <message>
        <source>F11 My progress</source>
        <translation>F11 我的进度</translation>
    </message>
    <message>
        <source>Ctrl+L Log out</source>
        <translation>Ctrl+L 退出登录</translation>
    </message>
    <message>
        <source>&amp;Scan member code, or type a phone, member number, name or the phone&apos;s last four digits + Enter</source>
        <translation>扫描会员码，或输入手机号、会员号、姓名或手机尾号四位后按回车(&amp;S)</translation>
    </message>
    <message>
        <source>Store: %1 · Till %2</source>
        <translation>门店：%1 · 收银台 %2</translation>
    </message>
    <message>
        <source>Clerk: %1 (%2)</source>
        <translation>操作员：%1（%2）</translation>
    </message>
    <message>
        <source>Unexpected error (%1); nothing was changed.</source>
        <translation>意外错误（%1），未做任何更改。</translation>
    </message>
    <message>
        <source>%1 open alert(s) need your attention: press F9.</source>
        <translation>有 %1 条待处理提醒，请按 F9 查看。</translation>
    </message>
    <message>
        <source>Member %1 registered.</source>
        <translation>会员 %1 注册成功。</translation>
    </message>
    <message>
        <source>Personal data of %1</source>
        <translation>会员 %1 的个人信息</translation>
    </message>
    <message>
        <source>Phone: %1</source>
        <translation>手机号：%1</translation>
    </message>
    <message>
        <source>Name: %1</source>
        <translation>姓名：%1</translation>
    </message>
    <message>
        <source>Birthday: %1</source>
        <translation>生日：%1</translation>
    </message>
    <message>
        <source>This look-up has been recorded in the audit log.</source>
        <translation>本次查看已记入审计日志。</translation>
    </message>
    <message>
        <source>Ctrl+H Purchases</source>
        <translation>Ctrl+H 消费记录</translation>
    </message>
    <message>
        <source>Upgraded to %1!</source>
        <translation>已升级为%1！</translation>
    </message>
    <message>
        <source>Points adjusted by %1; balance %2.</source>
        <translation>积分已调整 %1；余额 %2。</translation>
    </message>
    <message>
        <source>Ctrl+U Staff</source>
        <translation>Ctrl+U 员工</translation>
    </message>
    <message>
        <source>Ctrl+O Decode image</source>
        <translation>Ctrl+O 识别图片</translation>
    </message>
    <message>
        <source>The serial scanner is connected again.</source>
        <translation>串口扫码枪已重新连接。</translation>
    </message>
    <message>
        <source>Pay with stored value: bill %1 (POS)</source>
        <translation>储值支付：单据 %1（收银机）</translation>
    </message>
    <message>
        <source>Ctrl+I POS link</source>
        <translation>Ctrl+I 收银机对接</translation>
    </message>
    <message>
        <source>New card code: %1</source>
        <translation>新会员卡码：%1</translation>
    </message>
    <message>
        <source>Member service done.</source>
        <translation>会员服务已办理。</translation>
    </message>
    <message>
        <source>Privacy policy updated</source>
        <translation>隐私政策已更新</translation>
    </message>
    <message>
        <source>The privacy policy changed since member %1 agreed. Ask the member to read and agree to version %2.</source>
        <translation>会员 %1 同意隐私政策后，政策已有更新。请会员阅读并同意第 %2 版。</translation>
    </message>
    <message>
        <source>Member agrees</source>
        <translation>会员同意</translation>
    </message>
    <message>
        <source>Not now</source>
        <translation>暂不</translation>
    </message>
    <message>
        <source>Ctrl+M Service</source>
        <translation>Ctrl+M 会员服务</translation>
    </message>
    <message>
        <source>Suggested (Ctrl+J): %1</source>
        <translation>建议（Ctrl+J）：%1</translation>
    </message>
    <message>
        <source>Done: %1</source>
        <translation>已完成：%1</translation>
    </message>
    <message>
        <source>Not again: %1 (done already, or the member takes no marketing)</source>
        <translation>未重复：%1（已做过，或会员不接收营销信息）</translation>
    </message>
    <message>
        <source>Shift+F11 Programme health</source>
        <translation>Shift+F11 会员健康度</translation>
    </message>
    <message>
        <source>Ctrl+Shift+F11 Recall list</source>
        <translation>Ctrl+Shift+F11 召回名单</translation>
    </message>
    <message>
        <source>Ctrl+J Do the suggested action</source>
        <translation>Ctrl+J 执行建议动作</translation>
    </message>
    <message>
        <source>Ctrl+K Coupon</source>
        <translation>Ctrl+K 发券</translation>
    </message>
    <message>
        <source>Ctrl+Shift+K Withdraw coupon</source>
        <translation>Ctrl+Shift+K 撤回优惠券</translation>
    </message>
</context>
<context>
    <name>TopUpDialog</name>
    <message>
        <source>Top up stored value (F8)</source>
        <translation>储值充值（F8）</translation>
    </message>
    <message>
        <source>%2
+ bonus %3 · Ctrl+%1</source>
        <translation>%2
送 %3 · Ctrl+%1</translation>
    </message>
    <message>
        <source>Cash</source>
        <translation>现金</translation>
    </message>
    <message>
        <source>Bank card</source>
        <translation>银行卡</translation>
    </message>
    <message>
        <source>WeChat / Alipay (reference)</source>
        <translation>微信 / 支付宝（流水号）</translation>
    </message>
    <message>
        <source>payment reference (third-party: required)</source>
        <translation>支付流水号（第三方支付必填）</translation>
    </message>
    <message>
        <source>&amp;Amount (¥):</source>
        <translation>金额(&amp;A)（元）：</translation>
    </message>
    <message>
        <source>Bonus:</source>
        <translation>赠送：</translation>
    </message>
    <message>
        <source>Paid &amp;by:</source>
        <translation>支付方式(&amp;B)：</translation>
    </message>
    <message>
        <source>&amp;Reference:</source>
        <translation>流水号(&amp;R)：</translation>
    </message>
    <message>
        <source>Top up (Enter)</source>
        <translation>充值（Enter）</translation>
    </message>
    <message>
        <source>first top-up +%1</source>
        <translation>首次充值 +%1</translation>
    </message>
    <message>
        <source>birthday month +%1</source>
        <translation>生日月 +%1</translation>
    </message>
</context>
<context>
    <name>errors</name>
    <message>
        <source>The operation was refused.</source>
        <translation>操作被拒绝。</translation>
    </message>
    <message>
        <source>The input is not valid.</source>
        <translation>输入无效。</translation>
    </message>
    <message>
        <source>Not a mainland mobile number: 11 digits starting with 13-19 are needed.</source>
        <translation>不是有效的大陆手机号：需要以 13-19 开头的 11 位数字。</translation>
    </message>
    <message>
        <source>Not a valid amount of money: {value}</source>
        <translation>金额无效：{value}</translation>
    </message>
    <message>
        <source>The member must agree to the privacy policy before registering.</source>
        <translation>会员须先同意隐私政策才能注册。</translation>
    </message>
    <message>
        <source>This phone number already belongs to member {member_no}.</source>
        <translation>该手机号已是会员 {member_no} 的号码。</translation>
    </message>
    <message>
        <source>Too many registrations on this till: at most {limit} in {minutes} minutes. The store manager has been alerted.</source>
        <translation>本收银台注册过于频繁：{minutes} 分钟内最多 {limit} 次。已通知店长。</translation>
    </message>
    <message>
        <source>No member found for {query}.</source>
        <translation>未找到会员：{query}。</translation>
    </message>
    <message>
        <source>This code is not recognised: {code}</source>
        <translation>无法识别此码：{code}</translation>
    </message>
    <message>
        <source>Head office says this coupon was already used at {store} on {day}. Nothing was changed.</source>
        <translation>总部记录显示此券已于{day}在{store}使用。未做任何更改。</translation>
    </message>
    <message>
        <source>This coupon is not known at this till: the member&apos;s coupons are kept at their home store ({store}), and head office describes one here only while the till is online. Nothing was changed.</source>
        <translation>本收银机不认识这张优惠券：该会员的优惠券由其开卡门店（{store}）保管，只有在线时总部才能把它告知本机。未做任何更改。</translation>
    </message>
    <message>
        <source>This is a payment code: scan the member&apos;s card first, then the payment code.</source>
        <translation>这是付款码：请先扫会员码，再扫付款码。</translation>
    </message>
    <message>
        <source>A code was scanned while a window is open: finish or close it first. Nothing was changed.</source>
        <translation>有窗口未关闭时扫到了码：请先完成或关闭该窗口。未做任何更改。</translation>
    </message>
    <message>
        <source>No member or payment code was found in the picture. Nothing was changed.</source>
        <translation>图片中没有找到会员码或付款码。未做任何更改。</translation>
    </message>
    <message>
        <source>The file is not a picture the till can read.</source>
        <translation>该文件不是收银台能读取的图片。</translation>
    </message>
    <message>
        <source>The serial scanner is not connected (unplugged?): the till keeps trying. The scan field still works.</source>
        <translation>串口扫码枪未连接（被拔出？）：收银台会继续重试。扫码框仍可使用。</translation>
    </message>
    <message>
        <source>The referrer {query} is not a member.</source>
        <translation>推荐人 {query} 不是会员。</translation>
    </message>
    <message>
        <source>The recruiting guide is not active staff of this store.</source>
        <translation>所选导购不是本店在职员工。</translation>
    </message>
    <message>
        <source>Your role ({role}) may not {action}.</source>
        <translation>您的角色（{role}）无权{action}。</translation>
    </message>
    <message>
        <source>Wrong staff number or PIN.</source>
        <translation>工号或密码错误。</translation>
    </message>
    <message>
        <source>Too many wrong PINs: this login is locked until {until}.</source>
        <translation>密码错误次数过多，账号已锁定至 {until}。</translation>
    </message>
    <message>
        <source>The PIN must be 6 digits and not a repeat or a sequence, or a password of 8+.</source>
        <translation>PIN 须为 6 位数字，且不能是重复或连续数字；或使用 8 位以上的密码。</translation>
    </message>
    <message>
        <source>A manager&apos;s or administrator&apos;s PIN approves payments: 6 digits that are not an easy pattern (repeats, pairs, runs, mirrors, common PINs), or a password of 8+.</source>
        <translation>店长或管理员的 PIN 用于审批支付：须为 6 位数字且不是简单规律（重复、成对、连号、对称、常见 PIN），或 8 位以上的密码。</translation>
    </message>
    <message>
        <source>Staff number {code} is already taken.</source>
        <translation>工号 {code} 已被占用。</translation>
    </message>
    <message>
        <source>No such colleague in this store.</source>
        <translation>本店没有这位员工。</translation>
    </message>
    <message>
        <source>You cannot deactivate yourself or change your own role: ask another manager.</source>
        <translation>不能停用自己或修改自己的角色：请另一位店长操作。</translation>
    </message>
    <message>
        <source>Your login is no longer valid (deactivated or role changed): log in again.</source>
        <translation>您的登录已失效（账号已停用或角色已变更）：请重新登录。</translation>
    </message>
    <message>
        <source>This till has no store yet: run &apos;pos-member demo&apos; or enrol it.</source>
        <translation>本收银台尚未绑定门店：请运行 &apos;pos-member demo&apos; 或进行设备注册。</translation>
    </message>
    <message>
        <source>Rules file refused: {field}: {problem}</source>
        <translation>规则文件被拒绝：{field}：{problem}</translation>
    </message>
    <message>
        <source>Backup or restore refused: {problem}</source>
        <translation>备份或恢复被拒绝：{problem}</translation>
    </message>
    <message>
        <source>Configuration refused: {field}: {problem}</source>
        <translation>配置被拒绝：{field}：{problem}</translation>
    </message>
    <message>
        <source>The OS credential store is not available ({detail}). Personal data cannot be read or written without it.</source>
        <translation>系统凭据存储不可用（{detail}），无法读写个人信息。</translation>
    </message>
    <message>
        <source>This till already has {what}: enrolment is for a fresh till. Use a new data folder (--data-dir) to enrol it.</source>
        <translation>本收银台已有{what}：设备注册仅用于全新的收银台。请使用新的数据目录（--data-dir）进行注册。</translation>
    </message>
    <message>
        <source>This till is enrolled as store {store} till {device} and head office still accepts it: it needs no new enrolment, and the code was not used. Enrolling again is for a till whose access was revoked or whose credentials were lost.</source>
        <translation>本机已登记为 {store} 号门店 {device} 号收银机，总部仍然认可它：无需重新登记，登记码未被使用。重新登记只用于访问权限已被撤销或凭据丢失的收银机。</translation>
    </message>
    <message>
        <source>This till now works under a new identity from head office: log in again.</source>
        <translation>本收银台已从总部取得新的身份：请重新登录。</translation>
    </message>
    <message>
        <source>The enrolment code is for store {got}, but this till&apos;s data belong to store {have}: ask head office for a code of store {have}.</source>
        <translation>注册码属于门店 {got}，而本收银台的数据属于门店 {have}：请向总部申请门店 {have} 的注册码。</translation>
    </message>
    <message>
        <source>Not saved: this part of the profile was last changed at a till whose clock is ahead. Head office has been alerted; edit it again once that till&apos;s clock is put right.</source>
        <translation>未保存：这部分资料最近一次是在一台时钟超前的收银台上修改的。总部已收到提醒；请在该收银台的时钟校正后再修改。</translation>
    </message>
    <message>
        <source>Not saved: this colleague was last changed at a till whose clock is ahead, so the change would not hold. Head office can deactivate them at once; change it here again once that till&apos;s clock is put right.</source>
        <translation>未保存：这位同事最近一次是在一台时钟超前的收银台上修改的，此处的修改不会生效。总部可以立即停用该同事；请在该收银台的时钟校正后再修改。</translation>
    </message>
    <message>
        <source>Not saved: this target or roster was last changed at a till whose clock is ahead, so the change would not hold. Head office can set the month&apos;s target; change it here again once that till&apos;s clock is put right.</source>
        <translation>未保存：该目标或排班最近一次是在一台时钟超前的收银台上修改的，此处的修改不会生效。总部可以设置本月目标；请在该收银台的时钟校正后再修改。</translation>
    </message>
    <message>
        <source>Not saved: this member&apos;s status, tier, freeze, phone, PIN or dynamic code was last changed at a till whose clock is ahead, so the change would not hold at the other tills. Head office has been alerted; change it again once that till&apos;s clock is put right.</source>
        <translation>未保存：该会员的状态、等级、冻结、手机号、支付密码或动态码最近一次是在一台时钟超前的收银台上修改的，此处的修改在其他收银台不会生效。总部已收到提醒；请在该收银台的时钟校正后再修改。</translation>
    </message>
    <message>
        <source>The till could not write to its disk (full or failing): nothing was saved. Free some space or call support, then try again.</source>
        <translation>收银台无法写入磁盘（已满或故障）：本次操作未保存。请释放空间或联系技术支持后重试。</translation>
    </message>
    <message>
        <source>A target is a whole number of new members from 0 to {maximum}: {value}</source>
        <translation>目标须为 0 到 {maximum} 之间的整数（新会员人数）：{value}</translation>
    </message>
    <message>
        <source>Not a month (YYYY-MM): {value}</source>
        <translation>不是有效月份（YYYY-MM）：{value}</translation>
    </message>
    <message>
        <source>Nobody is on shift on {day}, but the day has a target of {target}: put at least one guide on shift.</source>
        <translation>{day} 没有导购当班，但当天目标为 {target}：请至少安排一位导购。</translation>
    </message>
    <message>
        <source>Only active guides of this store can be on the roster: {who}</source>
        <translation>只有本店在职导购可以排班：{who}</translation>
    </message>
    <message>
        <source>The guides&apos; targets on {day} add up to {total}, but the day&apos;s target is {target}: nothing was changed.</source>
        <translation>{day} 导购目标合计 {total}，但当天目标为 {target}：未做任何更改。</translation>
    </message>
    <message>
        <source>The split on {day} must give a target to exactly the guides on shift.</source>
        <translation>{day} 的分配必须且只能给当班导购设定目标。</translation>
    </message>
    <message>
        <source>The stored-value operation was refused.</source>
        <translation>储值操作被拒绝。</translation>
    </message>
    <message>
        <source>The amount must be more than ¥0.00.</source>
        <translation>金额必须大于 ¥0.00。</translation>
    </message>
    <message>
        <source>Not enough stored value: the balance is {balance}, the payment {amount}.</source>
        <translation>储值余额不足：余额 {balance}，本次支付 {amount}。</translation>
    </message>
    <message>
        <source>This member&apos;s stored value is frozen: ask the store manager.</source>
        <translation>该会员储值账户已冻结，请联系店长。</translation>
    </message>
    <message>
        <source>Head office has blocked this member&apos;s stored value until it is settled.</source>
        <translation>总部已暂停该会员的储值支付，待结清后恢复。</translation>
    </message>
    <message>
        <source>Offline, a member may spend at most {cap} a day; {left} is left today.</source>
        <translation>离线时每位会员每天最多消费 {cap}，今天还剩 {left}。</translation>
    </message>
    <message>
        <source>This member belongs to another store. Head office last reported a balance of {known} (at {at}); {spent} has been paid here since, so at most {cap} may be paid offline. Go online to see the current balance.</source>
        <translation>该会员属于其他门店。总部上次告知的余额为 {known}（{at}）；此后本机已支付 {spent}，离线时最多还可支付 {cap}。联网后可查看当前余额。</translation>
    </message>
    <message>
        <source>A payment of {limit} or more needs a store manager&apos;s approval.</source>
        <translation>{limit} 及以上的支付需要店长授权。</translation>
    </message>
    <message>
        <source>Approval refused: wrong manager number or PIN, or not a manager.</source>
        <translation>授权失败：店长工号或密码错误，或该员工不是店长。</translation>
    </message>
    <message>
        <source>Paying with stored value needs the member&apos;s PIN, dynamic code or SMS code.</source>
        <translation>储值支付需要会员支付密码、动态码或短信验证码。</translation>
    </message>
    <message>
        <source>Wrong payment PIN: {left} tries left.</source>
        <translation>支付密码错误，还可尝试 {left} 次。</translation>
    </message>
    <message>
        <source>Too many wrong PINs or dynamic codes: paying by PIN or dynamic code is locked until {until}.</source>
        <translation>支付密码或动态码错误次数过多：{until} 前不能用支付密码或动态码付款。</translation>
    </message>
    <message>
        <source>The dynamic code is wrong, expired or already used: ask for a fresh one ({left} tries left).</source>
        <translation>动态码错误、已过期或已使用：请会员刷新后重试（还可尝试 {left} 次）。</translation>
    </message>
    <message>
        <source>The period ends ({end}) before it starts ({start}): swap the dates.</source>
        <translation>时段的结束日期（{end}）早于开始日期（{start}）：请对调两个日期。</translation>
    </message>
    <message>
        <source>The period starts on {start}, after today ({today}): nothing is in it yet.</source>
        <translation>时段从 {start} 开始，晚于今天（{today}）：其中还没有任何数据。</translation>
    </message>
    <message>
        <source>The store has no members registered by {end}: there is nothing to report.</source>
        <translation>截至 {end} 本店没有登记的会员：没有可报告的内容。</translation>
    </message>
    <message>
        <source>This member has no payment PIN yet: set one with a manager present.</source>
        <translation>该会员尚未设置支付密码：请在店长在场时设置。</translation>
    </message>
    <message>
        <source>No such coupon. Nothing was changed.</source>
        <translation>没有这张优惠券。未做任何更改。</translation>
    </message>
    <message>
        <source>This coupon code is not genuine. Nothing was changed.</source>
        <translation>该优惠券码不是本公司发放的。未做任何更改。</translation>
    </message>
    <message>
        <source>This coupon expired on {day}. Nothing was changed.</source>
        <translation>该优惠券已于 {day} 过期。未做任何更改。</translation>
    </message>
    <message>
        <source>This coupon is valid from {day}. Nothing was changed.</source>
        <translation>该优惠券自 {day} 起可用。未做任何更改。</translation>
    </message>
    <message>
        <source>This coupon was already used or withdrawn. Nothing was changed.</source>
        <translation>该优惠券已使用或已作废。未做任何更改。</translation>
    </message>
    <message>
        <source>This coupon is not for {what}. Nothing was changed.</source>
        <translation>该优惠券不适用于{what}。未做任何更改。</translation>
    </message>
    <message>
        <source>This coupon needs a bill of at least {threshold}; the bill is {bill}. Nothing was changed.</source>
        <translation>该优惠券需消费满 {threshold}，本单为 {bill}。未做任何更改。</translation>
    </message>
    <message>
        <source>This coupon cannot be combined with {what}. Nothing was changed.</source>
        <translation>该优惠券不能与{what}同时使用。未做任何更改。</translation>
    </message>
    <message>
        <source>This is a coupon: show the member&apos;s card first, then the coupon.</source>
        <translation>这是优惠券：请先出示会员码，再扫优惠券。</translation>
    </message>
    <message>
        <source>Head office has stopped this member&apos;s coupons until it settles a coupon used twice. Nothing was changed.</source>
        <translation>一张优惠券被重复使用，总部处理前该会员的优惠券暂停使用。未做任何更改。</translation>
    </message>
    <message>
        <source>This till is not connected to head office yet, so the day cannot be closed with head office from here. Ask head office to connect (enrol) this till; until then its sales and members are kept on the till.</source>
        <translation>本收银台还没有接入总部，暂时不能在这里与总部完成日结。请联系总部为本收银台办理接入；接入前，销售和会员数据都保存在本收银台上。</translation>
    </message>
    <message>
        <source>Choose another PIN: 6 digits, not repeated or in sequence, not the phone&apos;s last six or the birthday.</source>
        <translation>请换一个密码：6 位数字，不能是重复或连续数字，不能是手机号后六位或生日。</translation>
    </message>
    <message>
        <source>A dynamic code is 6 digits.</source>
        <translation>动态码为 6 位数字。</translation>
    </message>
    <message>
        <source>This member has no dynamic code yet: provision it from the ledger (Shift+F10).</source>
        <translation>该会员尚未绑定动态码：请在储值流水（Shift+F10）中设置。</translation>
    </message>
    <message>
        <source>The SMS code is wrong, expired or used up: send a new one.</source>
        <translation>短信验证码错误、已过期或次数已用完，请重新发送。</translation>
    </message>
    <message>
        <source>Wait {seconds} s before sending another SMS code.</source>
        <translation>请等待 {seconds} 秒后再重新发送验证码。</translation>
    </message>
    <message>
        <source>Head office sent too many SMS codes for now: try again in {minutes} min, or use the PIN or dynamic code.</source>
        <translation>总部短信验证码发送次数已达上限：请 {minutes} 分钟后再试，或使用支付密码或动态码。</translation>
    </message>
    <message>
        <source>Head office does not know this member yet: sync the till, or use the PIN or dynamic code.</source>
        <translation>总部尚无此会员的登记：请先同步本机，或使用支付密码或动态码。</translation>
    </message>
    <message>
        <source>SMS codes need the connection to head office: use the PIN or dynamic code.</source>
        <translation>短信验证码需要连接总部：请改用支付密码或动态码。</translation>
    </message>
    <message>
        <source>This operation has already been refunded.</source>
        <translation>该笔操作已经退款。</translation>
    </message>
    <message>
        <source>This payment is part of bill {bill_no}: refund it from the bill (Shift+F4), so the sale and its points go back with it.</source>
        <translation>这笔付款属于小票 {bill_no}：请从小票退货（Shift+F4），销售和积分会一并退回。</translation>
    </message>
    <message>
        <source>No stored-value operation {txn_id} for this member.</source>
        <translation>该会员没有储值操作 {txn_id}。</translation>
    </message>
    <message>
        <source>The top-up&apos;s principal has been spent: it can no longer be refunded.</source>
        <translation>该笔充值的本金已被使用，不能再退款。</translation>
    </message>
    <message>
        <source>Enter a reason.</source>
        <translation>请输入原因。</translation>
    </message>
    <message>
        <source>Transaction {txn_id} was already used for a different operation.</source>
        <translation>交易号 {txn_id} 已用于另一笔操作。</translation>
    </message>
    <message>
        <source>Say how the alert was handled.</source>
        <translation>请填写处理说明。</translation>
    </message>
    <message>
        <source>This alert is already handled.</source>
        <translation>该提醒已处理。</translation>
    </message>
    <message>
        <source>A name is at most 30 printable characters.</source>
        <translation>姓名最多 30 个可打印字符。</translation>
    </message>
    <message>
        <source>A tag is at most 20 characters.</source>
        <translation>每个标签最多 20 个字符。</translation>
    </message>
    <message>
        <source>A member has at most 20 tags.</source>
        <translation>每位会员最多 20 个标签。</translation>
    </message>
    <message>
        <source>The birthday must be a past date.</source>
        <translation>生日必须是过去的日期。</translation>
    </message>
    <message>
        <source>Choose the guide who recruited this member.</source>
        <translation>请选择招募该会员的导购。</translation>
    </message>
    <message>
        <source>Enter the referring member&apos;s number.</source>
        <translation>请输入推荐人的会员号。</translation>
    </message>
    <message>
        <source>A staff number is 3 to 8 digits.</source>
        <translation>工号为 3 到 8 位数字。</translation>
    </message>
    <message>
        <source>A staff name is 1 to 50 characters.</source>
        <translation>员工姓名为 1 到 50 个字符。</translation>
    </message>
    <message>
        <source>A staff name is one line with no control characters.</source>
        <translation>员工姓名须为一行，且不含控制字符。</translation>
    </message>
    <message>
        <source>Birthday: use year-month-day, e.g. 1990-03-14.</source>
        <translation>生日格式：年-月-日，例如 1990-03-14。</translation>
    </message>
    <message>
        <source>The server sent an unusable data key.</source>
        <translation>服务器发来的数据密钥无法使用。</translation>
    </message>
    <message>
        <source>Sync failed: {detail}</source>
        <translation>同步失败：{detail}</translation>
    </message>
    <message>
        <source>The server cannot be reached ({detail}). Nothing is lost: the till keeps working and syncs later.</source>
        <translation>无法连接总部服务器（{detail}）。数据不会丢失：收银台照常工作，稍后自动同步。</translation>
    </message>
    <message>
        <source>The server refused the request ({status}): {detail}</source>
        <translation>总部服务器拒绝了请求（{status}）：{detail}</translation>
    </message>
    <message>
        <source>The server&apos;s answer does not follow the sync protocol: {detail}</source>
        <translation>总部服务器的应答不符合同步协议：{detail}</translation>
    </message>
    <message>
        <source>Not enough points: {available} can be spent now, {wanted} were asked for.</source>
        <translation>积分不足：当前可用 {available} 分，需要 {wanted} 分。</translation>
    </message>
    <message>
        <source>At most {cap} points can be redeemed on this bill (half of it).</source>
        <translation>本单最多可抵扣 {cap} 积分（账单金额的一半）。</translation>
    </message>
    <message>
        <source>Give the reason for the adjustment.</source>
        <translation>请填写调整原因。</translation>
    </message>
    <message>
        <source>This till transaction was already used for something else: start a new one.</source>
        <translation>该收银交易号已用于其他操作，请重新开始。</translation>
    </message>
    <message>
        <source>The till transaction id is missing.</source>
        <translation>缺少收银交易号。</translation>
    </message>
    <message>
        <source>No such gift in the catalogue.</source>
        <translation>兑换目录中没有该礼品。</translation>
    </message>
    <message>
        <source>An adjustment is a whole number of points, not 0, at most 1,000,000.</source>
        <translation>调整积分须为非零整数，绝对值不超过 1,000,000。</translation>
    </message>
    <message>
        <source>Bill {bill_no} is already recorded.</source>
        <translation>小票 {bill_no} 已经登记过。</translation>
    </message>
    <message>
        <source>No sale with bill number {bill_no} in this store.</source>
        <translation>本店没有小票号为 {bill_no} 的销售。</translation>
    </message>
    <message>
        <source>At most {left} can still be refunded on bill {bill_no}.</source>
        <translation>小票 {bill_no} 最多还可退 {left}。</translation>
    </message>
    <message>
        <source>A bill number is 1 to 32 letters or digits, without spaces.</source>
        <translation>小票号为 1 到 32 位字母或数字，不能有空格。</translation>
    </message>
    <message>
        <source>A category is at most 20 characters.</source>
        <translation>品类名称最多 20 个字。</translation>
    </message>
    <message>
        <source>Points to redeem must be 0 or more.</source>
        <translation>抵扣积分不能为负数。</translation>
    </message>
    <message>
        <source>Only a member can redeem points.</source>
        <translation>只有会员可以使用积分抵扣。</translation>
    </message>
    <message>
        <source>Points are redeemed in steps of {step}.</source>
        <translation>积分须按 {step} 的倍数抵扣。</translation>
    </message>
    <message>
        <source>The transaction id is missing or too long.</source>
        <translation>交易号缺失或过长。</translation>
    </message>
    <message>
        <source>Choose how the top-up is paid.</source>
        <translation>请选择充值的支付方式。</translation>
    </message>
    <message>
        <source>Enter the third-party payment&apos;s reference number.</source>
        <translation>请输入第三方支付的流水号。</translation>
    </message>
    <message>
        <source>The payment reference is too long.</source>
        <translation>支付流水号过长。</translation>
    </message>
    <message>
        <source>The reason is too long (200 at most).</source>
        <translation>原因过长（最多 200 字）。</translation>
    </message>
    <message>
        <source>The SMS code could not be sent: try again, or use the PIN or dynamic code.</source>
        <translation>短信验证码未能发出：请重试，或改用支付密码或动态码。</translation>
    </message>
    <message>
        <source>This colleague is already active.</source>
        <translation>该员工已是启用状态。</translation>
    </message>
    <message>
        <source>This colleague is already inactive.</source>
        <translation>该员工已是停用状态。</translation>
    </message>
    <message>
        <source>The two PINs are not the same.</source>
        <translation>两次输入的 PIN 不一致。</translation>
    </message>
    <message>
        <source>Say how the bill is paid.</source>
        <translation>请选择支付方式。</translation>
    </message>
    <message>
        <source>A payment line is not valid.</source>
        <translation>支付金额无效。</translation>
    </message>
    <message>
        <source>Each way of paying appears once.</source>
        <translation>每种支付方式只能出现一次。</translation>
    </message>
    <message>
        <source>The payments add up to {paid}, the bill to {due}.</source>
        <translation>支付合计 {paid}，应付 {due}，两者不符。</translation>
    </message>
    <message>
        <source>Only a member pays by stored value.</source>
        <translation>只有会员可以使用储值支付。</translation>
    </message>
    <message>
        <source>Member {member_no} is frozen: no points are earned or redeemed and no stored value is spent. Ask the store manager.</source>
        <translation>会员 {member_no} 已冻结：不累积、不兑换积分，不可使用储值。请联系店长。</translation>
    </message>
    <message>
        <source>Member {member_no} is blacklisted and cannot be served. {reason}</source>
        <translation>会员 {member_no} 已列入黑名单，无法为其办理业务。{reason}</translation>
    </message>
    <message>
        <source>This card of member {member_no} was reported lost and replaced: ask the member for the new card, or look them up by phone.</source>
        <translation>会员 {member_no} 的这张卡已挂失并补办新卡：请出示新卡，或用手机号查询。</translation>
    </message>
    <message>
        <source>Member {member_no}&apos;s personal data was erased: the member cannot be served.</source>
        <translation>会员 {member_no} 的个人信息已删除，无法为其办理业务。</translation>
    </message>
    <message>
        <source>Not a member status: {status}</source>
        <translation>不是有效的会员状态：{status}</translation>
    </message>
    <message>
        <source>Give the reason (at most 200 characters).</source>
        <translation>请填写原因（最多 200 字）。</translation>
    </message>
    <message>
        <source>The tier set by hand must end on a day after today, within {days} days.</source>
        <translation>手动设定的等级须在今天之后、{days} 天之内结束。</translation>
    </message>
    <message>
        <source>Not a tier of the rules in force: {tier}</source>
        <translation>不是现行规则中的等级：{tier}</translation>
    </message>
    <message>
        <source>Member {member_no} belongs to another store: serve this at their store.</source>
        <translation>会员 {member_no} 属于其他门店，请到其所属门店办理。</translation>
    </message>
    <message>
        <source>The new phone is the member&apos;s phone already.</source>
        <translation>新手机号与会员当前手机号相同。</translation>
    </message>
    <message>
        <source>A phone change needs the code sent to the new phone, or offline the member&apos;s payment PIN or dynamic code and a manager&apos;s approval.</source>
        <translation>更换手机号需验证发送到新手机的验证码；离线时需会员支付密码或动态码，并经店长批准。</translation>
    </message>
    <message>
        <source>Member {member_no} still has {balance} of stored value: refund or settle it before erasing the member.</source>
        <translation>会员 {member_no} 仍有储值余额 {balance}：请先退款或结清，再删除会员信息。</translation>
    </message>
    <message>
        <source>Head office holds {balance} of stored value for member {member_no} (chain-wide, with other tills&apos; top-ups and payments): settle it before erasing the member.</source>
        <translation>总部记录会员 {member_no} 仍有储值余额 {balance}（全连锁，含其他收银台的充值和消费）：请先结清，再删除会员信息。</translation>
    </message>
    <message>
        <source>Head office could not be reached, so member {member_no}&apos;s stored value at the chain&apos;s other tills could not be checked. Erase the member when the till is online.</source>
        <translation>无法连接总部，无法核对会员 {member_no} 在连锁其他收银台的储值余额。请在收银台联网时再删除会员信息。</translation>
    </message>
    <message>
        <source>Give the reason for the coupon.</source>
        <translation>请填写发券原因。</translation>
    </message>
    <message>
        <source>No such coupon in the rules.</source>
        <translation>规则中没有这种优惠券。</translation>
    </message>
    <message>
        <source>The campaign id is missing.</source>
        <translation>缺少活动编号。</translation>
    </message>
    <message>
        <source>Pick the members to send it to.</source>
        <translation>请选择要发券的会员。</translation>
    </message>
    <message>
        <source>At most 500 members at a time.</source>
        <translation>一次最多 500 位会员。</translation>
    </message>
    <message>
        <source>Nothing is suggested for this member.</source>
        <translation>该会员暂无建议动作。</translation>
    </message>
    <message>
        <source>The rules name no win-back coupon.</source>
        <translation>规则中未设置回归券。</translation>
    </message>
    <message>
        <source>No such message.</source>
        <translation>没有这种短信。</translation>
    </message>
    <message>
        <source>The text holds a control character: type it again.</source>
        <translation>文字中含有控制字符，请重新输入。</translation>
    </message>
</context>
<context>
    <name>insight_report</name>
    <message>
        <source>Programme health</source>
        <translation>会员健康度</translation>
    </message>
    <message>
        <source>Cohorts</source>
        <translation>新会员留存</translation>
    </message>
    <message>
        <source>All tiers</source>
        <translation>全部等级</translation>
    </message>
    <message>
        <source>Chain</source>
        <translation>全连锁</translation>
    </message>
    <message>
        <source>Period</source>
        <translation>时段</translation>
    </message>
    <message>
        <source>Store</source>
        <translation>门店</translation>
    </message>
    <message>
        <source>Tier</source>
        <translation>等级</translation>
    </message>
    <message>
        <source>Members</source>
        <translation>会员数</translation>
    </message>
    <message>
        <source>New members</source>
        <translation>新会员</translation>
    </message>
    <message>
        <source>Active members (30 days)</source>
        <translation>活跃会员（30 天）</translation>
    </message>
    <message>
        <source>活跃度</source>
        <translation>活跃度</translation>
    </message>
    <message>
        <source>复购率</source>
        <translation>复购率</translation>
    </message>
    <message>
        <source>ARPU</source>
        <translation>ARPU（人均消费）</translation>
    </message>
    <message>
        <source>客单价 (members)</source>
        <translation>客单价（会员）</translation>
    </message>
    <message>
        <source>客单价 (non-members)</source>
        <translation>客单价（非会员）</translation>
    </message>
    <message>
        <source>Member sales share</source>
        <translation>会员销售占比</translation>
    </message>
    <message>
        <source>Points issued</source>
        <translation>发放积分</translation>
    </message>
    <message>
        <source>Points redeemed</source>
        <translation>兑换积分</translation>
    </message>
    <message>
        <source>兑换率</source>
        <translation>积分兑换率</translation>
    </message>
    <message>
        <source>Outstanding points</source>
        <translation>未兑换积分</translation>
    </message>
    <message>
        <source>储值负债 principal</source>
        <translation>储值负债（本金）</translation>
    </message>
    <message>
        <source>储值负债 bonus</source>
        <translation>储值负债（赠送）</translation>
    </message>
    <message>
        <source>Churn rate</source>
        <translation>流失率</translation>
    </message>
    <message>
        <source>Month</source>
        <translation>月份</translation>
    </message>
    <message>
        <source>留存率 7 days</source>
        <translation>7 天留存率</translation>
    </message>
    <message>
        <source>留存率 30 days</source>
        <translation>30 天留存率</translation>
    </message>
    <message>
        <source>留存率 90 days</source>
        <translation>90 天留存率</translation>
    </message>
</context>
<context>
    <name>kpi_report</name>
    <message>
        <source>Summary</source>
        <translation>汇总</translation>
    </message>
    <message>
        <source>Guides</source>
        <translation>导购明细</translation>
    </message>
    <message>
        <source>Business day</source>
        <translation>营业日</translation>
    </message>
    <message>
        <source>Store</source>
        <translation>门店</translation>
    </message>
    <message>
        <source>Day&apos;s recruitment target</source>
        <translation>当日招募目标</translation>
    </message>
    <message>
        <source>New members today</source>
        <translation>今日新会员</translation>
    </message>
    <message>
        <source>Target reached</source>
        <translation>是否达成</translation>
    </message>
    <message>
        <source>Guides on shift</source>
        <translation>当班导购</translation>
    </message>
    <message>
        <source>Guides who met their target</source>
        <translation>达标导购</translation>
    </message>
    <message>
        <source>Sales</source>
        <translation>销售笔数</translation>
    </message>
    <message>
        <source>Member sales</source>
        <translation>会员销售笔数</translation>
    </message>
    <message>
        <source>Member-attached sales ratio (会销比)</source>
        <translation>会销比</translation>
    </message>
    <message>
        <source>Member-attached sales ratio target</source>
        <translation>会销比目标</translation>
    </message>
    <message>
        <source>Sales amount</source>
        <translation>销售额</translation>
    </message>
    <message>
        <source>Member sales amount</source>
        <translation>会员销售额</translation>
    </message>
    <message>
        <source>Member sales share</source>
        <translation>会员销售占比</translation>
    </message>
    <message>
        <source>Month&apos;s target</source>
        <translation>本月目标</translation>
    </message>
    <message>
        <source>New members this month</source>
        <translation>本月新会员</translation>
    </message>
    <message>
        <source>Staff no.</source>
        <translation>工号</translation>
    </message>
    <message>
        <source>Guide</source>
        <translation>导购</translation>
    </message>
    <message>
        <source>On shift</source>
        <translation>当班</translation>
    </message>
    <message>
        <source>Target</source>
        <translation>目标</translation>
    </message>
    <message>
        <source>New members</source>
        <translation>新会员</translation>
    </message>
    <message>
        <source>Completion</source>
        <translation>完成率</translation>
    </message>
    <message>
        <source>Met (达标)</source>
        <translation>达标</translation>
    </message>
    <message>
        <source>会销比</source>
        <translation>会销比</translation>
    </message>
    <message>
        <source>yes</source>
        <translation>是</translation>
    </message>
    <message>
        <source>no</source>
        <translation>否</translation>
    </message>
</context>
<context>
    <name>member_insight</name>
    <message>
        <source>高客单价</source>
        <translation>高客单价</translation>
    </message>
    <message>
        <source>沉睡客户</source>
        <translation>沉睡客户</translation>
    </message>
    <message>
        <source>高频客户</source>
        <translation>高频客户</translation>
    </message>
    <message>
        <source>品类偏好</source>
        <translation>品类偏好</translation>
    </message>
    <message>
        <source>新客</source>
        <translation>新客</translation>
    </message>
    <message>
        <source>活跃</source>
        <translation>活跃</translation>
    </message>
    <message>
        <source>沉睡</source>
        <translation>沉睡</translation>
    </message>
    <message>
        <source>流失</source>
        <translation>流失</translation>
    </message>
    <message>
        <source>流失预警</source>
        <translation>流失预警</translation>
    </message>
    <message>
        <source>Send a win-back coupon (送回归券)</source>
        <translation>送回归券</translation>
    </message>
    <message>
        <source>Remind them of their points (提醒积分余额)</source>
        <translation>提醒积分余额</translation>
    </message>
    <message>
        <source>Invite them to the member day (邀请参加会员日)</source>
        <translation>邀请参加会员日</translation>
    </message>
</context>
<context>
    <name>members</name>
    <message>
        <source>Store guide</source>
        <translation>门店导购</translation>
    </message>
    <message>
        <source>Referral</source>
        <translation>老带新</translation>
    </message>
    <message>
        <source>Campaign</source>
        <translation>活动</translation>
    </message>
    <message>
        <source>Walk-in</source>
        <translation>自然进店</translation>
    </message>
    <message>
        <source>Import</source>
        <translation>导入</translation>
    </message>
    <message>
        <source>Female</source>
        <translation>女</translation>
    </message>
    <message>
        <source>Male</source>
        <translation>男</translation>
    </message>
    <message>
        <source>Regular</source>
        <translation>普通</translation>
    </message>
    <message>
        <source>Silver</source>
        <translation>银卡</translation>
    </message>
    <message>
        <source>Gold</source>
        <translation>金卡</translation>
    </message>
    <message>
        <source>Diamond</source>
        <translation>钻石</translation>
    </message>
</context>
<context>
    <name>points</name>
    <message>
        <source>Purchase</source>
        <translation>消费积分</translation>
    </message>
    <message>
        <source>Welcome points</source>
        <translation>入会积分</translation>
    </message>
    <message>
        <source>Referral reward</source>
        <translation>推荐奖励</translation>
    </message>
    <message>
        <source>Redeemed on a bill</source>
        <translation>积分抵现</translation>
    </message>
    <message>
        <source>Exchanged for a gift</source>
        <translation>积分兑换礼品</translation>
    </message>
    <message>
        <source>Refund: points taken back</source>
        <translation>退货扣回积分</translation>
    </message>
    <message>
        <source>Refund: redeemed points returned</source>
        <translation>退货退还抵扣积分</translation>
    </message>
    <message>
        <source>Expired</source>
        <translation>积分过期</translation>
    </message>
    <message>
        <source>Manual adjustment</source>
        <translation>手工调整</translation>
    </message>
    <message>
        <source>Welcome points: one per person (merged)</source>
        <translation>迎新积分：每人一份（合并）</translation>
    </message>
</context>
<context>
    <name>recall</name>
    <message>
        <source>Recall list</source>
        <translation>召回名单</translation>
    </message>
    <message>
        <source>Member no.</source>
        <translation>会员号</translation>
    </message>
    <message>
        <source>Tier</source>
        <translation>等级</translation>
    </message>
    <message>
        <source>Last purchase</source>
        <translation>最近消费</translation>
    </message>
    <message>
        <source>Days away</source>
        <translation>未到店天数</translation>
    </message>
    <message>
        <source>Spent in all</source>
        <translation>累计消费</translation>
    </message>
    <message>
        <source>Purchases</source>
        <translation>消费次数</translation>
    </message>
    <message>
        <source>Stage</source>
        <translation>生命周期</translation>
    </message>
    <message>
        <source>RFM segment</source>
        <translation>RFM 分层</translation>
    </message>
    <message>
        <source>Suggested action</source>
        <translation>建议动作</translation>
    </message>
    <message>
        <source>Recall rate</source>
        <translation>召回率</translation>
    </message>
    <message>
        <source>Sent on</source>
        <translation>发券日期</translation>
    </message>
    <message>
        <source>Coupon</source>
        <translation>优惠券</translation>
    </message>
    <message>
        <source>Members sent</source>
        <translation>发券人数</translation>
    </message>
    <message>
        <source>Came back in 30 days</source>
        <translation>30 天内回店</translation>
    </message>
    <message>
        <source>召回率</source>
        <translation>召回率</translation>
    </message>
    <message>
        <source>Their spend</source>
        <translation>回店消费</translation>
    </message>
    <message>
        <source>Coupon cost</source>
        <translation>券成本</translation>
    </message>
    <message>
        <source>召回 ROI</source>
        <translation>召回 ROI</translation>
    </message>
    <message>
        <source>Window</source>
        <translation>观察期</translation>
    </message>
    <message>
        <source>still open</source>
        <translation>未结束</translation>
    </message>
    <message>
        <source>closed</source>
        <translation>已结束</translation>
    </message>
    <message>
        <source>Message: we miss you, come and see us</source>
        <translation>短信：好久不见，欢迎回店</translation>
    </message>
    <message>
        <source>Message: your points balance</source>
        <translation>短信：积分余额提醒</translation>
    </message>
    <message>
        <source>Message: invitation to the members&apos; day</source>
        <translation>短信：会员日邀请</translation>
    </message>
</context>
<context>
    <name>rfm</name>
    <message>
        <source>重要价值客户</source>
        <translation>重要价值客户</translation>
    </message>
    <message>
        <source>重要保持客户</source>
        <translation>重要保持客户</translation>
    </message>
    <message>
        <source>重要发展客户</source>
        <translation>重要发展客户</translation>
    </message>
    <message>
        <source>重要挽留客户</source>
        <translation>重要挽留客户</translation>
    </message>
    <message>
        <source>一般价值客户</source>
        <translation>一般价值客户</translation>
    </message>
    <message>
        <source>一般保持客户</source>
        <translation>一般保持客户</translation>
    </message>
    <message>
        <source>一般发展客户</source>
        <translation>一般发展客户</translation>
    </message>
    <message>
        <source>一般挽留客户</source>
        <translation>一般挽留客户</translation>
    </message>
</context>
<context>
    <name>roles</name>
    <message>
        <source>Cashier</source>
        <translation>收银员</translation>
    </message>
    <message>
        <source>Guide</source>
        <translation>导购</translation>
    </message>
    <message>
        <source>Manager</source>
        <translation>店长</translation>
    </message>
    <message>
        <source>Administrator</source>
        <translation>管理员</translation>
    </message>
    <message>
        <source>look up members</source>
        <translation>查询会员</translation>
    </message>
    <message>
        <source>register members</source>
        <translation>注册会员</translation>
    </message>
    <message>
        <source>edit member profiles</source>
        <translation>编辑会员资料</translation>
    </message>
    <message>
        <source>reveal personal data</source>
        <translation>查看完整个人信息</translation>
    </message>
    <message>
        <source>manage staff</source>
        <translation>管理员工</translation>
    </message>
    <message>
        <source>create managers and administrators</source>
        <translation>创建店长和管理员</translation>
    </message>
    <message>
        <source>review alerts</source>
        <translation>处理提醒</translation>
    </message>
    <message>
        <source>set up the store</source>
        <translation>设置门店</translation>
    </message>
    <message>
        <source>close the day</source>
        <translation>日结</translation>
    </message>
    <message>
        <source>adjust points by hand</source>
        <translation>手工调整积分</translation>
    </message>
    <message>
        <source>approve refunds of sales</source>
        <translation>批准销售退款</translation>
    </message>
    <message>
        <source>set recruitment targets and the roster</source>
        <translation>设置招募目标与排班</translation>
    </message>
    <message>
        <source>see the store&apos;s recruitment dashboard</source>
        <translation>查看门店招募看板</translation>
    </message>
    <message>
        <source>issue and withdraw coupons by hand</source>
        <translation>手工发放和作废优惠券</translation>
    </message>
    <message>
        <source>top up stored value</source>
        <translation>储值充值</translation>
    </message>
    <message>
        <source>take stored-value payments</source>
        <translation>储值收款</translation>
    </message>
    <message>
        <source>refund stored-value payments</source>
        <translation>储值消费退款</translation>
    </message>
    <message>
        <source>refund top-ups</source>
        <translation>充值退款</translation>
    </message>
    <message>
        <source>freeze and unfreeze stored value</source>
        <translation>冻结和解冻储值</translation>
    </message>
    <message>
        <source>approve large stored-value payments</source>
        <translation>授权大额储值支付</translation>
    </message>
    <message>
        <source>approve stored-value payment refunds</source>
        <translation>授权储值消费退款</translation>
    </message>
    <message>
        <source>set member payment PINs and codes</source>
        <translation>设置会员支付密码和动态码</translation>
    </message>
    <message>
        <source>freeze and blacklist members, set tiers by hand, re-issue cards</source>
        <translation>冻结、拉黑会员，手动设定等级，补办会员卡</translation>
    </message>
    <message>
        <source>change members&apos; phones</source>
        <translation>更换会员手机号</translation>
    </message>
    <message>
        <source>erase members&apos; personal data</source>
        <translation>删除会员个人信息</translation>
    </message>
    <message>
        <source>this store</source>
        <translation>本门店</translation>
    </message>
    <message>
        <source>this member&apos;s tier</source>
        <translation>该会员等级</translation>
    </message>
    <message>
        <source>points on the same bill</source>
        <translation>同单积分抵扣</translation>
    </message>
    <message>
        <source>another coupon</source>
        <translation>其他优惠券</translation>
    </message>
    <message>
        <source>this member</source>
        <translation>该会员</translation>
    </message>
</context>
</TS>
