<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="zh_CN">
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
        <source>%1  Registration burst: %2 in %3 min by %4</source>
        <translation>%1  注册过于频繁：%3 分钟内 %2 次，操作人 %4</translation>
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
    <name>SyncView</name>
    <message>
        <source>Not enrolled with head office</source>
        <translation>未注册到总部</translation>
    </message>
    <message>
        <source>This till does not sync: it has no server.</source>
        <translation>本收银台未连接总部服务器，不同步。</translation>
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
        <source>Day closed: every event is stored at head office.</source>
        <translation>日结完成：全部事件已保存到总部。</translation>
    </message>
    <message>
        <source>NOT closed: %1 event(s) not acknowledged by head office. Close the day again when the server can be reached.</source>
        <translation>日结未完成：%1 条事件总部尚未确认。请在能连接服务器时重新日结。</translation>
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
    <name>TillWindow</name>
    <message>
        <source>POS Member — %1</source>
        <translation>会员收银 — %1</translation>
    </message>
    <message>
        <source>&amp;Scan member code, or type a phone or member number + Enter</source>
        <translation>扫描会员码，或输入手机号/会员号后按回车(&amp;S)</translation>
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
        <source>F2 Register</source>
        <translation>F2 注册会员</translation>
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
        <source>Ctrl+L Log out</source>
        <translation>Ctrl+L 退出登录</translation>
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
        <source>Staff number {code} is already taken.</source>
        <translation>工号 {code} 已被占用。</translation>
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
        <source>This till is not enrolled with a server: run &apos;pos-member enrol&apos; first.</source>
        <translation>本收银台尚未在服务器注册：请先运行 &apos;pos-member enrol&apos;。</translation>
    </message>
    <message>
        <source>The till could not write to its disk (full or failing): nothing was saved. Free some space or call support, then try again.</source>
        <translation>收银台无法写入磁盘（已满或故障）：本次操作未保存。请释放空间或联系技术支持后重试。</translation>
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
</context>
</TS>
